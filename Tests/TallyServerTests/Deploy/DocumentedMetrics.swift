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
