/// Writes Prometheus's protobuf exposition: length-delimited `io.prometheus.client.MetricFamily`
/// messages, encoded by hand from the format's message definitions (the field numbers below).
///
/// A nested message is written in place: ``beginMessage(_:)`` reserves one byte for its length,
/// ``endMessage(_:)`` writes the length there and, when it needs more than one byte, moves the
/// body up. No intermediate buffers, no generated code (see `docs/metrics.md`, "Protobuf").
public struct ProtobufWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 4096) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Where a message's length goes; returned by ``beginMessage(_:)``.
    public struct MessageStart: Sendable {
        let lengthAt: Int
    }

    // MARK: - Wire format

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        self.bytes.append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func tag(_ field: Int, _ wireType: UInt64) {
        self.varint(UInt64(field) << 3 | wireType)
    }

    /// A `uint64` / `int64` / enum field (wire type 0).
    public mutating func uint64(_ field: Int, _ value: UInt64) {
        self.tag(field, 0)
        self.varint(value)
    }

    public mutating func int64(_ field: Int, _ value: Int64) {
        self.uint64(field, UInt64(bitPattern: value))
    }

    /// A `sint32` / `sint64` field: zigzag-encoded.
    public mutating func sint64(_ field: Int, _ value: Int64) {
        self.tag(field, 0)
        self.varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A `double` field (wire type 1, little-endian).
    public mutating func double(_ field: Int, _ value: Double) {
        self.tag(field, 1)
        var bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { self.bytes.append(contentsOf: $0) }
    }

    /// A `string` field (wire type 2).
    public mutating func string(_ field: Int, _ value: String) {
        self.tag(field, 2)
        var value = value
        value.withUTF8 { utf8 in
            self.varint(UInt64(utf8.count))
            self.bytes.append(contentsOf: utf8)
        }
    }

    /// Bytes already encoded as the fields of a message (pre-rendered label pairs).
    public mutating func raw(_ encoded: [UInt8]) {
        self.bytes.append(contentsOf: encoded)
    }

    /// Starts a nested message in `field`; end it with ``endMessage(_:)``.
    public mutating func beginMessage(_ field: Int) -> MessageStart {
        self.tag(field, 2)
        self.bytes.append(0)
        return MessageStart(lengthAt: self.bytes.count - 1)
    }

    /// Starts a top-level message of a delimited stream (its length, no tag).
    public mutating func beginDelimited() -> MessageStart {
        self.bytes.append(0)
        return MessageStart(lengthAt: self.bytes.count - 1)
    }

    /// Writes the length of the message begun at `start`.
    public mutating func endMessage(_ start: MessageStart) {
        let length = self.bytes.count - start.lengthAt - 1
        if length < 0x80 {
            self.bytes[start.lengthAt] = UInt8(length)
            return
        }
        var encoded = ProtobufWriter(reservingCapacity: 10)
        encoded.varint(UInt64(length))
        self.bytes.replaceSubrange(start.lengthAt...start.lengthAt, with: encoded.bytes)
    }

    /// A `google.protobuf.Timestamp` in `field`, from Unix seconds (millisecond precision, as `_created`).
    public mutating func timestamp(_ field: Int, unixSeconds: Double) {
        let milliseconds = Int64((unixSeconds * 1000).rounded())
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let nanos = (milliseconds - seconds * 1000) * 1_000_000
        let start = self.beginMessage(field)
        if seconds != 0 { self.int64(1, seconds) }
        if nanos != 0 { self.int64(2, nanos) }
        self.endMessage(start)
    }

    /// The encoded `LabelPair` fields (`Metric.label`, field 1) of a series, rendered once per series set.
    static func labelPairs(names: [String], values: [String]) -> [UInt8] {
        var writer = ProtobufWriter(reservingCapacity: 64)
        for (name, value) in zip(names, values) {
            writer.labelPair(ProtobufField.Metric.label, name: name, value: value)
        }
        return writer.bytes
    }

    /// A `LabelPair` message in `field` (a metric's or an exemplar's labels).
    mutating func labelPair(_ field: Int, name: String, value: String) {
        let pair = self.beginMessage(field)
        self.string(ProtobufField.LabelPair.name, name)
        self.string(ProtobufField.LabelPair.value, value)
        self.endMessage(pair)
    }
}

/// The `MetricType` of a family in the protobuf format.
public enum ProtobufMetricType: UInt64, Sendable {
    case counter = 0
    case gauge = 1
    case summary = 2
    case untyped = 3
    case histogram = 4
}

/// Field numbers of the `io.prometheus.client` messages Tally writes.
package enum ProtobufField {
    package enum MetricFamily {
        package static let name = 1, help = 2, type = 3, metric = 4, unit = 5
    }
    package enum Metric {
        package static let label = 1, gauge = 2, counter = 3, summary = 4, untyped = 5, histogram = 7, timestampMs = 6
    }
    package enum LabelPair {
        package static let name = 1, value = 2
    }
    package enum Gauge {
        package static let value = 1
    }
    package enum Counter {
        package static let value = 1, exemplar = 2, createdTimestamp = 3
    }
    package enum Quantile {
        package static let quantile = 1, value = 2
    }
    package enum Summary {
        package static let sampleCount = 1, sampleSum = 2, quantile = 3, createdTimestamp = 4
    }
    package enum Histogram {
        package static let sampleCount = 1, sampleCountFloat = 4, sampleSum = 2, bucket = 3, createdTimestamp = 15
        package static let schema = 5, zeroThreshold = 6, zeroCount = 7, zeroCountFloat = 8
        package static let negativeSpan = 9, negativeDelta = 10, negativeCount = 11
        package static let positiveSpan = 12, positiveDelta = 13, positiveCount = 14
        package static let exemplars = 16
    }
    package enum Bucket {
        package static let cumulativeCount = 1, cumulativeCountFloat = 4, upperBound = 2, exemplar = 3
    }
    package enum Exemplar {
        package static let label = 1, value = 2, timestamp = 3
    }
    package enum BucketSpan {
        package static let offset = 1, length = 2
    }
}
