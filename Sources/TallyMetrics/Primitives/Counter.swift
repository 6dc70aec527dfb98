import Synchronization

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
    /// The most recent exemplar, if any was given (`increment(by:exemplar:)` only; the plain path never touches it).
    let exemplarSlot = Mutex<RecordedExemplar?>(nil)
    /// Set once an exemplar was kept: until then a render takes no lock for it.
    let hasExemplar = Atomic<Bool>(false)

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

    /// Adds `delta` (≥ 0) and keeps `exemplar` as the counter's exemplar (replacing the previous one);
    /// its value defaults to `delta`. Takes a short lock, so use it for traced work, not in tight loops.
    public func increment(by delta: Int64 = 1, exemplar: Exemplar) {
        guard delta >= 0 else { return }
        self.cells.addInteger(delta, cell: 0)
        let recorded = exemplar.recorded(amount: Double(delta))
        self.exemplarSlot.withLock { $0 = recorded }
        self.hasExemplar.store(true, ordering: .releasing)
    }

    /// The kept exemplar, without a lock while there has never been one.
    var currentExemplar: RecordedExemplar? {
        self.hasExemplar.load(ordering: .acquiring) ? self.exemplarSlot.withLock { $0 } : nil
    }

    /// The most recent exemplar: its labels, value and time.
    public var exemplar: (exemplar: Exemplar, value: Double, timestamp: Double)? {
        self.exemplarSlot.withLock { $0.map { ($0.exemplar, $0.value, $0.timestamp) } }
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
        writer.writeLine(lines[0], value: self.value, exemplar: self.currentExemplar)
        writer.writeCreated(lines[1], createdAt: self.createdAt)
    }

    public func _writeProtobuf(to writer: inout ProtobufWriter) {
        writer.counter(value: Double(self.value), createdAt: self.createdAt, exemplar: self.currentExemplar)
    }
}
