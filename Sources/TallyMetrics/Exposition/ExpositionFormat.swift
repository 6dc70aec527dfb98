/// The two text formats Tally renders, with their HTTP content types.
public enum ExpositionFormat: Sendable, Hashable {
    /// Prometheus text format 0.0.4.
    case prometheusText
    /// OpenMetrics 1.0.0 (`# UNIT`, `_created`, `# EOF`).
    case openMetrics

    public var contentType: String {
        switch self {
        case .prometheusText: return "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// Chooses the format an HTTP `Accept` header prefers: OpenMetrics when an
    /// `application/openmetrics-text` range (version 1.0.0 or unversioned) has a
    /// higher quality than any acceptable `text/plain` range, text 0.0.4 otherwise.
    public static func negotiate(accept: String?) -> ExpositionFormat {
        guard let accept, !accept.isEmpty else { return .prometheusText }
        var bestOpenMetrics = 0.0
        var bestText = 0.0
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingSpaces().lowercased() }
            guard let mediaType = parts.first else { continue }
            var quality = 1.0
            var version: String?
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
                guard pair.count == 2 else { continue }
                if pair[0] == "q" { quality = Double(pair[1]) ?? 0 }
                if pair[0] == "version" { version = pair[1] }
            }
            switch mediaType {
            case "application/openmetrics-text" where version == nil || version == "1.0.0":
                bestOpenMetrics = max(bestOpenMetrics, quality)
            case "text/plain", "text/*", "*/*":
                bestText = max(bestText, quality)
            default:
                continue
            }
        }
        return bestOpenMetrics > 0 && bestOpenMetrics > bestText ? .openMetrics : .prometheusText
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
