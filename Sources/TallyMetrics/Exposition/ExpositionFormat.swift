/// The formats Tally renders, with their HTTP content types.
public enum ExpositionFormat: Sendable, Hashable {
    /// Prometheus text format 0.0.4.
    case prometheusText
    /// OpenMetrics 1.0.0 (`# UNIT`, `_created`, `# EOF`).
    case openMetrics
    /// Prometheus protobuf: length-delimited `io.prometheus.client.MetricFamily` messages. The only
    /// format with native histograms: summaries and sketches are exported as schema-6 native
    /// histograms there, losslessly, and stay summaries in the text formats.
    case protobuf

    public var contentType: String {
        switch self {
        case .prometheusText: return "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
        case .protobuf: return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        }
    }

    /// Chooses the format an HTTP `Accept` header prefers, as Prometheus orders them: the
    /// acceptable range with the highest quality wins; on equal quality protobuf (delimited
    /// `io.prometheus.client.MetricFamily`), then OpenMetrics 1.0.0 (or unversioned), then text 0.0.4.
    /// `text/plain`, `text/*` and `*/*` mean text 0.0.4; anything else, or no header, falls back to text.
    public static func negotiate(accept: String?) -> ExpositionFormat {
        guard let accept, !accept.isEmpty else { return .prometheusText }
        var best: (format: ExpositionFormat, quality: Double)? = nil
        func preference(_ format: ExpositionFormat) -> Int {
            switch format {
            case .protobuf: return 3
            case .openMetrics: return 2
            case .prometheusText: return 1
            }
        }
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingSpaces().lowercased() }
            guard let mediaType = parts.first else { continue }
            var quality = 1.0
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
                guard pair.count == 2 else { continue }
                if pair[0] == "q" { quality = Double(pair[1]) ?? 0 } else { parameters[pair[0]] = pair[1] }
            }
            let format: ExpositionFormat
            switch mediaType {
            case "application/vnd.google.protobuf"
                where parameters["proto"] == "io.prometheus.client.metricfamily" && parameters["encoding"] == "delimited":
                format = .protobuf
            case "application/openmetrics-text" where parameters["version"] == nil || parameters["version"] == "1.0.0":
                format = .openMetrics
            case "text/plain" where parameters["version"] == nil || parameters["version"] == "0.0.4",
                 "text/*", "*/*":
                format = .prometheusText
            default:
                continue
            }
            guard quality > 0 else { continue }
            if let current = best, current.quality > quality || (current.quality == quality && preference(current.format) >= preference(format)) {
                continue
            }
            best = (format, quality)
        }
        return best?.format ?? .prometheusText
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
