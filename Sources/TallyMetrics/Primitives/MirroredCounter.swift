import Synchronization

/// A counter whose value is copied from elsewhere (a total the shared state,
/// a server or the kernel keeps) rather than incremented in this process.
///
/// `set` is one atomic store; exposed like a core ``Counter`` (`_total`, `_created`).
public final class MirroredCounter: MetricSeries {
    public static var kind: MetricKind { .counter }
    public let createdAt: Double
    private let bits = Atomic<UInt64>(0)

    public init(options: NoOptions = NoOptions()) {
        self.createdAt = currentUnixTime()
    }

    public func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }

    public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

    public static func _sampleLines(options: NoOptions) -> [SampleLine] {
        Counter._sampleLines(options: options)
    }

    public func _writeSamples(to writer: inout ExpositionWriter, lines: SampleLinePrefixes) {
        writeCount(to: &writer, line: lines[0], value: value)
        writer.writeCreated(lines[1], createdAt: createdAt)
    }

    public func _writeProtobuf(to writer: inout ProtobufWriter) {
        writer.counter(value: value, createdAt: createdAt)
    }
}

/// Writes a count as an integer when it is one (weighted counts and mirrored totals can have fractions).
package func writeCount(to writer: inout ExpositionWriter, line: SampleLinePrefix, value: Double) {
    if value.rounded() == value, abs(value) < 0x1p53 {
        writer.writeLine(line, value: Int64(value))
    } else {
        writer.writeLine(line, value: value)
    }
}
