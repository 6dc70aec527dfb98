/// A monotonically increasing integer count, exposed with the `_total` suffix.
///
/// `increment` is lock-free and allocation-free: one thread-local load and an
/// add into the calling thread's own slot of the counter, a plain load and
/// store with no locked instruction (threads beyond the exclusive slots share
/// one with atomic adds). Reading sums the slots. Negative deltas are
/// ignored (a counter never goes down; use a ``Gauge``).
public final class Counter: MetricSeries {
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

    /// Adds `delta` (≥ 0) to the count.
    @inlinable @inline(__always)
    public func increment(by delta: Int64 = 1) {
        guard delta >= 0 else { return }
        self.cells.addInteger(delta, cell: 0)
    }

    /// The count now: the sum of every thread's slot.
    public var value: Int64 {
        self.cells.integerSum(cell: 0)
    }

    /// Sets the count back to zero (swift-metrics `reset()`); not atomic with concurrent increments.
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
