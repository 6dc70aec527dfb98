/// A monotonically increasing floating-point count (for example dollars spent),
/// exposed with the `_total` suffix.
///
/// `increment` is lock-free: an add into the calling thread's own slot.
/// Negative, NaN and infinite deltas are ignored.
public final class FloatingCounter: MetricSeries {
    public static var kind: MetricKind { .counter }

    @usableFromInline let cells: PerThreadCells
    public let createdAt: Double

    public init(options: NoOptions = NoOptions()) {
        self.cells = PerThreadCells(cellCount: 1)
        self.createdAt = currentUnixTime()
    }

    deinit {
        self.cells.deallocate()
    }

    /// Adds `delta` (finite, ≥ 0) to the count.
    @inlinable @inline(__always)
    public func increment(by delta: Double) {
        guard delta >= 0, delta.isFinite else { return }
        self.cells.addDouble(delta, cell: 0)
    }

    public var value: Double {
        self.cells.doubleSum(cell: 0)
    }

    public func reset() {
        self.cells.zeroAll()
    }

    public static func _sampleLines(options: NoOptions) -> [SampleLine] {
        [SampleLine(suffix: "_total")]
    }

    public func _writeSamples(to writer: inout ExpositionWriter, lines: SampleLinePrefixes) {
        writer.writeLine(lines[0], value: self.value)
        writer.writeCreated(lines[1], createdAt: self.createdAt)
    }

    public func _writeProtobuf(to writer: inout ProtobufWriter) {
        writer.counter(value: Double(self.value), createdAt: self.createdAt)
    }
}
