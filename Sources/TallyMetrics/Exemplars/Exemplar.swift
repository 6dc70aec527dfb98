/// A reference from a counter increment or a histogram observation to the trace that caused it,
/// rendered in OpenMetrics (`# {trace_id="…"} 0.25 1700000000.123`) and protobuf, never in text 0.0.4.
///
/// A series keeps at most one per counter and one per histogram bucket: the most recent.
/// Exemplar labels are not series labels: they create no series, and they are bounded by the
/// OpenMetrics limit of 128 UTF-8 characters for all names and values together.
public struct Exemplar: Sendable {
    /// The OpenMetrics limit on the label names and values of one exemplar, in UTF-8 characters.
    public static let maxLabelCharacters = 128

    public let labels: [(name: String, value: String)]
    /// The exemplar's value; nil takes the recorded amount (the increment, the observation).
    public let value: Double?
    /// Unix seconds; nil takes the moment it is recorded.
    public let timestamp: Double?
    /// `{name="value",…}`, escaped once here rather than at every scrape.
    let renderedLabels: [UInt8]

    /// - Throws: ``ExemplarError`` for an invalid label name, labels past ``maxLabelCharacters``,
    ///   or a non-finite value or timestamp.
    public init(labels: [(name: String, value: String)], value: Double? = nil, timestamp: Double? = nil) throws(ExemplarError) {
        var characters = 0
        for label in labels {
            guard !label.name.isEmpty, MetricNameRules.isValidLabelName(label.name) else { throw .invalidLabelName(label.name) }
            characters += label.name.count + label.value.count
        }
        guard characters <= Self.maxLabelCharacters else { throw .labelsTooLong(characters: characters) }
        if let value, !value.isFinite { throw .notFinite("value", value) }
        if let timestamp, !timestamp.isFinite { throw .notFinite("timestamp", timestamp) }
        self.labels = labels
        self.value = value
        self.timestamp = timestamp
        var rendered: [UInt8] = [UInt8(ascii: "{")]
        rendered.append(contentsOf: RenderedLabels(names: labels.map(\.name), values: labels.map(\.value)).body)
        rendered.append(UInt8(ascii: "}"))
        self.renderedLabels = rendered
    }

    /// The exemplar as stored: the amount and the time filled in.
    package func recorded(amount: Double) -> RecordedExemplar {
        RecordedExemplar(exemplar: self, value: self.value ?? amount, timestamp: self.timestamp ?? currentUnixTime())
    }
}

/// Why an exemplar was refused.
public enum ExemplarError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidLabelName(String)
    case labelsTooLong(characters: Int)
    case notFinite(String, Double)

    public var description: String {
        switch self {
        case .invalidLabelName(let name): return "exemplar label name '\(name)' is not a valid label name"
        case .labelsTooLong(let characters):
            return "exemplar labels are \(characters) characters; OpenMetrics allows \(Exemplar.maxLabelCharacters) for all names and values together"
        case .notFinite(let what, let number): return "exemplar \(what) \(number) is not finite"
        }
    }
}

/// An exemplar as a series holds it, with its value and time.
package struct RecordedExemplar: Sendable {
    package let exemplar: Exemplar
    package let value: Double
    package let timestamp: Double

    package init(exemplar: Exemplar, value: Double, timestamp: Double) {
        self.exemplar = exemplar
        self.value = value
        self.timestamp = timestamp
    }
}
