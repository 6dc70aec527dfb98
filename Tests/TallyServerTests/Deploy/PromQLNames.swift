import Foundation

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
