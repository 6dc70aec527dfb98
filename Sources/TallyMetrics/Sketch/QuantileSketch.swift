/// A mergeable quantile sketch with relative error ≤ 0.55 % (DDSketch-style).
///
/// Values go into logarithmic bins (``LogarithmicMapping``); a quantile is the
/// representative of the bin holding that rank, so it is within 0.55 % of the
/// true value at that rank for any distribution. Two sketches merge by adding
/// bins, so per-worker or per-window sketches combine exactly. Counts are
/// doubles so that sampled events can carry a weight. The number of bins is
/// bounded: past `maxBins` the lowest bins collapse into one, which keeps the
/// upper quantiles exact to the guarantee and only blurs the very lowest ones.
public struct QuantileSketch: Sendable, Equatable {
    /// Values whose magnitude is below this count as zero.
    public static let minIndexableValue: Double = 0x1p-64
    /// Magnitudes above this are clamped into the top bin.
    public static let maxIndexableValue: Double = 0x1p64

    public private(set) var positiveBins: [Int: Double] = [:]
    public private(set) var negativeBins: [Int: Double] = [:]
    public private(set) var zeroCount: Double = 0
    public internal(set) var count: Double = 0
    public private(set) var sum: Double = 0
    public let maxBins: Int

    public init(maxBins: Int = 2048) {
        self.maxBins = max(maxBins, 16)
    }

    /// The bin a value of magnitude `magnitude` (> minIndexableValue) falls in, clamped to the indexable range.
    @inlinable
    static func clampedIndex(_ magnitude: Double) -> Int {
        LogarithmicMapping.index(of: min(magnitude, Self.maxIndexableValue))
    }

    public var isEmpty: Bool { self.count == 0 }

    /// Adds `value` with `weight` (1 for an unsampled event, 1/p for a sampled one).
    /// NaN values and non-positive or non-finite weights are ignored.
    public mutating func add(_ value: Double, weight: Double = 1) {
        guard !value.isNaN, weight > 0, weight.isFinite else { return }
        self.count += weight
        self.sum += value * weight
        let magnitude = abs(value)
        if magnitude < Self.minIndexableValue {
            self.zeroCount += weight
        } else if value > 0 {
            self.positiveBins[Self.clampedIndex(magnitude), default: 0] += weight
        } else {
            self.negativeBins[Self.clampedIndex(magnitude), default: 0] += weight
        }
        self.collapseIfNeeded()
    }

    /// Adds `count` to bin `index` directly (used when rebuilding from stored bins).
    public mutating func addBin(index: Int, count: Double, negative: Bool = false) {
        guard count > 0, count.isFinite else { return }
        if negative {
            self.negativeBins[index, default: 0] += count
        } else {
            self.positiveBins[index, default: 0] += count
        }
        self.count += count
        self.collapseIfNeeded()
    }

    /// Adds to the zero bin, the count and the sum directly (used when rebuilding from stored state).
    public mutating func addTotals(zeroCount: Double, sum: Double) {
        self.zeroCount += zeroCount
        self.count += zeroCount
        self.sum += sum
    }

    /// Adds every bin, count and sum of `other`.
    public mutating func merge(_ other: QuantileSketch) {
        for (index, binCount) in other.positiveBins {
            self.positiveBins[index, default: 0] += binCount
        }
        for (index, binCount) in other.negativeBins {
            self.negativeBins[index, default: 0] += binCount
        }
        self.zeroCount += other.zeroCount
        self.count += other.count
        self.sum += other.sum
        self.collapseIfNeeded()
    }

    /// The value at quantile `q` (0…1), or nil when the sketch is empty or `q` is out of range.
    public func quantile(_ q: Double) -> Double? {
        guard self.count > 0, q >= 0, q <= 1 else { return nil }
        let rank = q * (self.count - 1)
        var seen = 0.0
        // Negative values, most negative first: bins of decreasing magnitude.
        for index in self.negativeBins.keys.sorted(by: >) {
            seen += self.negativeBins[index]!
            if seen > rank { return -LogarithmicMapping.representative(of: index) }
        }
        seen += self.zeroCount
        if seen > rank { return 0 }
        let ascending = self.positiveBins.keys.sorted()
        for index in ascending {
            seen += self.positiveBins[index]!
            if seen > rank { return LogarithmicMapping.representative(of: index) }
        }
        // Floating-point rounding of weighted counts: the top bin holds the rank.
        if let top = ascending.last { return LogarithmicMapping.representative(of: top) }
        return 0
    }

    /// Several quantiles in one pass over the sorted bins.
    public func quantiles(_ qs: [Double]) -> [Double?] {
        qs.map { self.quantile($0) }
    }

    public var binCount: Int { self.positiveBins.count + self.negativeBins.count }

    private mutating func collapseIfNeeded() {
        if self.positiveBins.count > self.maxBins {
            Self.collapseLowest(&self.positiveBins, keeping: self.maxBins)
        }
        if self.negativeBins.count > self.maxBins {
            Self.collapseLowest(&self.negativeBins, keeping: self.maxBins)
        }
    }

    /// Folds the lowest bins into the lowest bin that is kept.
    private static func collapseLowest(_ bins: inout [Int: Double], keeping limit: Int) {
        let sorted = bins.keys.sorted()
        let excess = sorted.count - limit
        guard excess > 0 else { return }
        let target = sorted[excess]
        var folded = 0.0
        for index in sorted.prefix(excess) {
            folded += bins.removeValue(forKey: index)!
        }
        bins[target, default: 0] += folded
    }
}
