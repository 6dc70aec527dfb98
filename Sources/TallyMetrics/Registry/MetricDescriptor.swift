/// What defines a metric: two registrations of one name must agree on all of it.
public struct MetricDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The exposed base name (a counter's without `_total`).
    public let name: String
    public let kind: MetricKind
    public let help: String
    public let unit: String?
    public let labelNames: [String]
    /// The series type and its options (buckets, quantiles), as text for error messages and comparison.
    let seriesDefinition: String

    public var description: String {
        var text = "\(self.kind) '\(self.name)' (help: \"\(self.help)\""
        if let unit { text += ", unit: \(unit)" }
        text += ", labels: [\(self.labelNames.joined(separator: ", "))]"
        if !self.seriesDefinition.isEmpty { text += ", \(self.seriesDefinition)" }
        return text + ")"
    }
}
