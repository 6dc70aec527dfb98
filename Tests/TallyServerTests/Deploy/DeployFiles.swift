import AsyncHTTPClient
import Foundation
import NIOCore

/// The files under `deploy/` and `docs/`, read from the source tree, and small
/// readers for what the deploy tests check in them.
enum DeployFiles {
    /// The package root (this file is `Tests/TallyServerTests/Deploy/DeployFiles.swift`).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    static let runbookBase = "https://github.com/tally/tally/blob/main/docs/runbooks.md"
}

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

/// Metric names a PromQL expression selects (functions, keywords, label
/// names, durations and numbers left out; `{__name__=~…}` selectors ignored).
enum PromQLNames {
    static let keywords: Set<String> = ["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan", "Inf", "NaN"]

    static func metricNames(in expression: String) throws -> Set<String> {
        var text = expression
        let removals = [
            #""(?:[^"\\]|\\.)*""#,                                             // strings
            #"\{[^}]*\}"#,                                                     // label matchers
            #"\[[^\]]*\]"#,                                                    // ranges and subqueries
            #"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#, // grouping clauses
        ]
        for pattern in removals {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        var names = Set<String>()
        let characters = Array(text)
        var index = 0
        func isStart(_ c: Character) -> Bool { c.isLetter || c == "_" || c == ":" }
        func isPart(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == ":" }
        while index < characters.count {
            let c = characters[index]
            let previous: Character? = index > 0 ? characters[index - 1] : nil
            if isStart(c), !(previous.map { isPart($0) || $0 == "." } ?? false) {
                var end = index
                while end < characters.count, isPart(characters[end]) { end += 1 }
                let word = String(characters[index..<end])
                var next = end
                while next < characters.count, characters[next] == " " || characters[next] == "\n" { next += 1 }
                let isCall = next < characters.count && characters[next] == "("
                if !isCall, !keywords.contains(word) { names.insert(word) }
                index = end
            } else {
                index += 1
            }
        }
        return names
    }
}

/// The metric names documented in `docs/metrics.md`'s tables (first column, in backticks).
enum DocumentedMetrics {
    static func names(_ markdown: String) -> Set<String> {
        var names = Set<String>()
        for line in markdown.split(separator: "\n") where line.hasPrefix("| `") {
            let cell = line.dropFirst(2).prefix { $0 != "|" }
            for part in cell.split(separator: "`") where part.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && !part.isEmpty {
                names.insert(String(part))
            }
        }
        return names
    }
}

/// Every `"expr"` string of a Grafana dashboard.
enum DashboardExpressions {
    static func all(_ json: Any) -> [String] {
        if let object = json as? [String: Any] {
            var found: [String] = []
            if let expr = object["expr"] as? String { found.append(expr) }
            for value in object.values { found += all(value) }
            return found
        }
        if let array = json as? [Any] { return array.flatMap(all) }
        return []
    }
}

/// Talking to a running `tally serve` over loopback.
enum NodeTraffic {
    @discardableResult
    static func post(_ base: String, _ body: String, client: HTTPClient, contentType: String = "application/x-ndjson") async throws -> Int {
        var request = HTTPClientRequest(url: base + "/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }

    /// 20 completions (15 accepted, 10–200 ms), 6 tool calls (one failing, one tool name with markup), 2 errors, 2 sessions.
    static let knownEvents: String = {
        var lines = [#"{"type":"session_start","session_id":"a"}"#, #"{"type":"session_start","session_id":"b"}"#]
        for i in 0..<20 {
            lines.append(#"{"type":"completion","session_id":"\#(i % 2 == 0 ? "a" : "b")","latency_ms":\#((i + 1) * 10),"accepted":\#(i % 4 != 3)}"#)
        }
        for (tool, success) in [("grep", true), ("grep", false), ("edit", true), ("edit", true), ("read", true), ("<img src=x onerror=alert(1)>", true)] {
            lines.append(#"{"type":"tool_call","session_id":"a","tool":"\#(tool)","success":\#(success)}"#)
        }
        lines.append(#"{"type":"error","session_id":"b","code":"rate_limited"}"#)
        lines.append(#"{"type":"error","session_id":"b","code":"timeout"}"#)
        return lines.joined(separator: "\n")
    }()

    static let knownEventCount = 30
    /// Completions, tool calls and errors the state counts from ``knownEvents``.
    static let knownAppliedCount = 28.0
}
