import CTallyAtomics
import Synchronization

/// A classic Prometheus histogram: counts per bucket, a sum and a count.
///
/// `observe` is lock-free and allocation-free: a search of the bounds (a
/// branchless count for up to 16 bounds, binary above), an add into the bucket and the sum of the
/// calling thread's own slot (no locked instruction, see ``Counter``). The
/// count is derived from the buckets, so `_count` always equals the `+Inf` bucket.
/// NaN is counted in `+Inf` and makes the sum NaN, as in other Prometheus clients.
/// (`@unchecked Sendable`: the bounds buffer is written once in `init`, then only read.)
public final class Histogram: MetricSeries, @unchecked Sendable {
    public static var kind: MetricKind { .histogram }

    public let buckets: HistogramBuckets
    /// The bounds as a raw buffer: no array bounds checks or retains on the hot path.
    @usableFromInline let bounds: UnsafeMutablePointer<Double>
    @usableFromInline let boundCount: Int
    /// Cells `0..<boundCount` are the finite buckets, `boundCount` is `+Inf`, then the sum.
    @usableFromInline let cells: PerThreadCells
    public let createdAt: Double
    /// The native buckets, when ``HistogramBuckets/nativeMaxBuckets`` is set.
    @usableFromInline let nativeBins: AtomicSketchBins?
    /// The most recent exemplar of each bucket (`+Inf` last); empty until the first one.
    let exemplarSlots = Mutex<[RecordedExemplar?]>([])
    /// Set once an exemplar was kept: until then a render takes no lock for them.
    let hasExemplars = Atomic<Bool>(false)

    public init(options buckets: HistogramBuckets) {
        self.buckets = buckets
        self.boundCount = buckets.upperBounds.count
        self.bounds = .allocate(capacity: self.boundCount)
        self.bounds.initialize(from: buckets.upperBounds, count: self.boundCount)
        self.cells = PerThreadCells(cellCount: self.boundCount + 2)
        self.nativeBins = buckets.nativeMaxBuckets == nil ? nil : AtomicSketchBins()
        self.createdAt = currentUnixTime()
    }

    deinit {
        self.bounds.deallocate()
        self.cells.deallocate()
    }

    /// The first bucket whose bound holds `value`; NaN lands in `+Inf`.
    /// Up to 16 bounds, a branchless count of the bounds below the value (no
    /// mispredicted early exit on random values); above, a binary search.
    @inlinable @inline(__always)
    func bucketIndex(_ value: Double) -> Int {
        if self.boundCount <= 16 {
            return c_tally_bucket_index(self.bounds, self.boundCount, value)
        }
        var low = 0
        var high = self.boundCount
        while low < high {
            let middle = (low &+ high) >> 1
            if value <= self.bounds[middle] {
                high = middle
            } else {
                low = middle &+ 1
            }
        }
        return value.isNaN ? self.boundCount : low
    }

    /// Records one observation.
    @inlinable @inline(__always)
    public func observe(_ value: Double) {
        self.observe(value, inBucket: self.bucketIndex(value))
    }

    /// Records one observation into bucket `index`, the one ``bucketIndex(_:)`` found for it.
    @inlinable @inline(__always)
    func observe(_ value: Double, inBucket index: Int) {
        let (slot, cells) = self.cells.local
        c_tally_slot_add_i64((cells + index &* 8).assumingMemoryBound(to: Int64.self), slot, 1)
        c_tally_slot_add_f64((cells + (self.boundCount &+ 1) &* 8).assumingMemoryBound(to: UInt64.self), slot, value)
        if let nativeBins = self.nativeBins { nativeBins.record(value) }
    }

    /// Records one observation and keeps `exemplar` as its bucket's exemplar (replacing the previous
    /// one); its value defaults to `value`. Takes a short lock, so use it for traced work.
    public func observe(_ value: Double, exemplar: Exemplar) {
        let index = self.bucketIndex(value)
        self.observe(value, inBucket: index)
        let recorded = exemplar.recorded(amount: value)
        let buckets = self.boundCount + 1
        self.exemplarSlots.withLock { slots in
            if slots.isEmpty { slots = Array(repeating: nil, count: buckets) }
            slots[index] = recorded
        }
        self.hasExemplars.store(true, ordering: .releasing)
    }

    /// The kept exemplars by bucket (empty while there has never been one, without a lock).
    var currentExemplars: [RecordedExemplar?] {
        self.hasExemplars.load(ordering: .acquiring) ? self.exemplarSlots.withLock { $0 } : []
    }

    /// The most recent exemplar of each bucket that has one, by upper bound (`+Inf` last).
    public var exemplars: [(upperBound: Double, exemplar: Exemplar, value: Double, timestamp: Double)] {
        let slots = self.currentExemplars
        return slots.indices.compactMap { index in
            slots[index].map { (index < self.boundCount ? self.bounds[index] : .infinity, $0.exemplar, $0.value, $0.timestamp) }
        }
    }

    /// Records a duration given in nanoseconds, in seconds.
    @inlinable @inline(__always)
    public func observe(nanoseconds: Int64) {
        self.observe(Double(nanoseconds) * 1e-9)
    }

    /// A consistent-enough copy: per-bucket (non-cumulative) counts, sum and count.
    public func snapshot() -> HistogramSnapshot {
        var counts: [Int64] = []
        counts.reserveCapacity(self.boundCount + 1)
        for cell in 0...self.boundCount {
            counts.append(self.cells.integerSum(cell: cell))
        }
        return HistogramSnapshot(
            upperBounds: self.buckets.upperBounds,
            bucketCounts: counts,
            sum: self.cells.doubleSum(cell: self.boundCount + 1)
        )
    }

    public func reset() {
        self.cells.zeroAll()
        self.nativeBins?.reset()
    }

    /// The native buckets as a sketch (schema 6), when the histogram is native.
    public func nativeSnapshot() -> QuantileSketch? {
        self.nativeBins?.snapshot(maxBins: Int.max)
    }

    public static func _sampleLines(options buckets: HistogramBuckets) -> [SampleLine] {
        buckets.renderedBounds.map { SampleLine(suffix: "_bucket", extraLabel: ("le", $0)) }
            + [SampleLine(suffix: "_count"), SampleLine(suffix: "_sum")]
    }

    public func _writeSamples(to writer: inout ExpositionWriter, lines: SampleLinePrefixes) {
        let exemplars = self.currentExemplars
        var cumulative: Int64 = 0
        for cell in 0...self.boundCount {
            cumulative &+= self.cells.integerSum(cell: cell)
            writer.writeLine(lines[cell], value: cumulative, exemplar: exemplars.isEmpty ? nil : exemplars[cell])
        }
        writer.writeLine(lines[self.boundCount + 1], value: cumulative)
        writer.writeLine(lines[self.boundCount + 2], value: self.cells.doubleSum(cell: self.boundCount + 1))
        writer.writeCreated(lines[self.boundCount + 3], createdAt: self.createdAt)
    }

    /// A classic histogram: cumulative counts per finite bound (`+Inf` is the sample count, and is
    /// written as a bucket only to carry its exemplar).
    public func _writeProtobuf(to writer: inout ProtobufWriter) {
        let message = writer.beginMessage(ProtobufField.Metric.histogram)
        let exemplars = self.currentExemplars
        var cumulative: Int64 = 0
        var buckets: [(bound: Double, count: Int64, exemplar: RecordedExemplar?)] = []
        buckets.reserveCapacity(self.boundCount + 1)
        for cell in 0...self.boundCount {
            cumulative &+= self.cells.integerSum(cell: cell)
            let exemplar = exemplars.isEmpty ? nil : exemplars[cell]
            if cell < self.boundCount || exemplar != nil {
                buckets.append((cell < self.boundCount ? self.bounds[cell] : .infinity, cumulative, exemplar))
            }
        }
        writer.uint64(ProtobufField.Histogram.sampleCount, UInt64(max(0, cumulative)))
        writer.double(ProtobufField.Histogram.sampleSum, self.cells.doubleSum(cell: self.boundCount + 1))
        if let native = self.nativeSnapshot(), let maxBuckets = self.buckets.nativeMaxBuckets {
            native.writeNativeBucketFields(to: &writer, integral: true, maxBuckets: maxBuckets)
        }
        for bucket in buckets {
            let entry = writer.beginMessage(ProtobufField.Histogram.bucket)
            writer.uint64(ProtobufField.Bucket.cumulativeCount, UInt64(max(0, bucket.count)))
            writer.double(ProtobufField.Bucket.upperBound, bucket.bound)
            if let exemplar = bucket.exemplar { writer.exemplar(ProtobufField.Bucket.exemplar, exemplar) }
            writer.endMessage(entry)
        }
        writer.timestamp(ProtobufField.Histogram.createdTimestamp, unixSeconds: self.createdAt)
        writer.endMessage(message)
    }
}

/// A point-in-time copy of a ``Histogram``.
public struct HistogramSnapshot: Sendable, Equatable {
    public var upperBounds: [Double]
    /// Per-bucket counts, the last one for `+Inf`; not cumulative.
    public var bucketCounts: [Int64]
    public var sum: Double
    public var count: Int64 { self.bucketCounts.reduce(0, &+) }
}
