import Synchronization

/// A value that goes up and down.
///
/// `set` is one atomic store; `add` a compare-and-swap loop. Lock-free, no allocation.
public final class Gauge: MetricSeries {
    public static var kind: MetricKind { .gauge }

    @usableFromInline let bits: Atomic<UInt64>
    public let createdAt: Double

    public init(options: NoOptions = NoOptions()) {
        self.bits = Atomic(0.0.bitPattern)
        self.createdAt = currentUnixTime()
    }

    @inlinable
    public func set(_ value: Double) {
        self.bits.store(value.bitPattern, ordering: .relaxed)
    }

    @inlinable
    public func add(_ delta: Double) {
        var current = self.bits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + delta).bitPattern
            let (exchanged, original) = self.bits.weakCompareExchange(
                expected: current, desired: next, ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
    }

    @inlinable
    public func subtract(_ delta: Double) {
        self.add(-delta)
    }

    public var value: Double {
        Double(bitPattern: self.bits.load(ordering: .relaxed))
    }

    public static func _sampleLines(options: NoOptions) -> [SampleLine] {
        [SampleLine(suffix: "")]
    }

    public func _writeSamples(to writer: inout ExpositionWriter, lines: SampleLinePrefixes) {
        writer.writeLine(lines[0], value: self.value)
    }

    public func _writeProtobuf(to writer: inout ProtobufWriter) {
        let message = writer.beginMessage(ProtobufField.Metric.gauge)
        writer.double(ProtobufField.Gauge.value, self.value)
        writer.endMessage(message)
    }
}
