#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The four kinds of metric Tally exposes, as named in both exposition formats.
public enum MetricKind: String, Sendable, Hashable, CustomStringConvertible {
    case counter
    case gauge
    case histogram
    case summary

    public var description: String { self.rawValue }
}

/// A series a family can own: one labelled instance of a metric.
///
/// Recording on a series is thread-safe and never takes a lock; the underscored
/// requirements are how the registry renders it and are not meant to be called.
public protocol MetricSeries: AnyObject, Sendable {
    /// Per-family settings every series of the family shares (buckets, quantiles, …).
    associatedtype Options: Sendable, Equatable
    static var kind: MetricKind { get }
    init(options: Options)
    /// Unix time in seconds at which the series was created (OpenMetrics `_created`).
    var createdAt: Double { get }
    /// The sample lines every series of this type writes, in order (`_created` excluded).
    static func _sampleLines(options: Options) -> [SampleLine]
    /// Writes the values after the pre-rendered line prefixes; the prefix
    /// after the last sample line is the `_created` line.
    func _writeSamples(to writer: inout ExpositionWriter, lines: SampleLinePrefixes)
    /// The family's type in the protobuf format (a summary's sketch is a native histogram there).
    static var _protobufType: ProtobufMetricType { get }
    /// Writes the series' value message inside its `Metric` (the labels are already written).
    func _writeProtobuf(to writer: inout ProtobufWriter)
}

extension MetricSeries {
    public static var _protobufType: ProtobufMetricType {
        switch kind {
        case .counter: .counter
        case .gauge: .gauge
        case .summary: .summary
        case .histogram: .histogram
        }
    }
}

extension ProtobufWriter {
    /// A `Counter` value message: the value and the creation time.
    package mutating func counter(value: Double, createdAt: Double, exemplar: RecordedExemplar? = nil) {
        let message = self.beginMessage(ProtobufField.Metric.counter)
        self.double(ProtobufField.Counter.value, value)
        if let exemplar { self.exemplar(ProtobufField.Counter.exemplar, exemplar) }
        self.timestamp(ProtobufField.Counter.createdTimestamp, unixSeconds: createdAt)
        self.endMessage(message)
    }

    /// An `Exemplar` message in `field`: its labels, value and time.
    mutating func exemplar(_ field: Int, _ recorded: RecordedExemplar) {
        let message = self.beginMessage(field)
        for label in recorded.exemplar.labels {
            self.labelPair(ProtobufField.Exemplar.label, name: label.name, value: label.value)
        }
        self.double(ProtobufField.Exemplar.value, recorded.value)
        self.timestamp(ProtobufField.Exemplar.timestamp, unixSeconds: recorded.timestamp)
        self.endMessage(message)
    }

    /// A sketch as a native histogram value message.
    package mutating func nativeHistogram(_ sketch: QuantileSketch, createdAt: Double) {
        let message = self.beginMessage(ProtobufField.Metric.histogram)
        sketch.writeNativeHistogramFields(to: &self, createdAt: createdAt)
        self.endMessage(message)
    }
}

/// Options for series types that have none.
public struct NoOptions: Sendable, Equatable {
    public init() {}
}

@usableFromInline
func currentUnixTime() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
