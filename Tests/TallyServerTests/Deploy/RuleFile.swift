import Foundation

/// One rule of `alerts.yml`, read line by line (the file keeps one layout:
/// `- alert:`/`- record:` items with `expr`, `for`, `labels`, `annotations`).
struct RuleEntry {
    var name: String
    var isAlert: Bool
    var expr = ""
    var labels: [String: String] = [:]
    var annotations: [String: String] = [:]
    var hasFor = false
}

enum RuleFile {
    static func rules(_ text: String) -> [RuleEntry] {
        var rules: [RuleEntry] = []
        var section = ""
        var exprIndent: Int? = nil
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let indent = raw.prefix { $0 == " " }.count
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let block = exprIndent {
                if line.isEmpty || indent > block {
                    if !line.isEmpty { rules[rules.count - 1].expr += line + "\n" }
                    continue
                }
                exprIndent = nil
            }
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("- alert: ") || line.hasPrefix("- record: ") {
                let isAlert = line.hasPrefix("- alert: ")
                rules.append(RuleEntry(name: String(line.dropFirst(isAlert ? 9 : 10)), isAlert: isAlert))
                section = ""
                continue
            }
            guard !rules.isEmpty else { continue }
            if line == "expr: |" {
                exprIndent = indent
            } else if line.hasPrefix("expr: ") {
                rules[rules.count - 1].expr = String(line.dropFirst(6))
            } else if line.hasPrefix("for: ") {
                rules[rules.count - 1].hasFor = true
            } else if line == "labels:" || line == "annotations:" {
                section = line
            } else if line.hasPrefix("- name: ") {
                section = ""
            } else if let colon = line.firstIndex(of: ":"), section != "" {
                let key = String(line[..<colon])
                var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                if section == "labels:" { rules[rules.count - 1].labels[key] = value } else { rules[rules.count - 1].annotations[key] = value }
            }
        }
        return rules
    }
}
