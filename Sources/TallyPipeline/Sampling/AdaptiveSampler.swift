import CTallyAtomics
import Synchronization
import TallyMetrics

/// Sheds load under overload without biasing what is measured: a keep/drop
/// decision per event with probability `p`, and the weight `1/p` for every
/// kept one, so counts, ratios and sketches built from weights stay unbiased.
///
/// `p` starts at the configured maximum (1 by default: everything kept, exact)
/// and moves between minimum and maximum only through ``adjust(pressure:)``
/// (see ``SamplerConfiguration`` for the step rule), which the owner calls
/// with a fill fraction it measures (Tally's node: the log's lag over its maximum).
/// Critical decisions always keep, with weight 1. A decision is lock-free: one
/// relaxed atomic load of `p` and, when `p < 1`, one number from a per-thread
/// generator (or a seeded, atomic counter-based one for reproducible runs).
/// Thread-safe; usable by any app, not only Tally's ingest.
public final class AdaptiveSampler: Sendable {
    public let configuration: SamplerConfiguration
    /// The meta-metrics this sampler records into, if any.
    public let metrics: SamplerMetrics?
    /// The bit pattern of the current probability (a `Double`).
    @usableFromInline let probabilityBits: Atomic<UInt64>
    /// Seeded source: the seed and the next draw's index. Unseeded: per-thread wyrand.
    @usableFromInline let isSeeded: Bool
    @usableFromInline let seed: UInt64
    @usableFromInline let drawIndex: Atomic<UInt64>
    /// The meta-metric counters, held without reference counting on the hot path
    /// (`metrics` keeps them alive); `counting` is false without meta-metrics.
    @usableFromInline let counting: Bool
    @usableFromInline let seenCounter: Unmanaged<Counter>
    @usableFromInline let keptCounter: Unmanaged<Counter>
    @usableFromInline let sampledOutCounter: Unmanaged<Counter>
    /// Owns placeholder counters when there are no meta-metrics.
    private let placeholder: Counter?

    /// Where the random numbers come from.
    public enum RandomSource: Sendable, Hashable {
        /// A per-thread generator seeded from the clock: no shared state at all (the default).
        case perThread
        /// SplitMix64 over a shared atomic counter: the same seed gives the same
        /// decisions in the same order (one thread), thread-safe under several.
        case seeded(UInt64)
    }

    public init(configuration: SamplerConfiguration = .default, metrics: SamplerMetrics? = nil, randomSource: RandomSource = .perThread) {
        self.configuration = configuration
        self.metrics = metrics
        self.probabilityBits = Atomic(configuration.maximumProbability.bitPattern)
        switch randomSource {
        case .perThread:
            self.isSeeded = false
            self.seed = 0
        case .seeded(let seed):
            self.isSeeded = true
            self.seed = seed
        }
        self.drawIndex = Atomic(0)
        if let metrics {
            self.counting = true
            self.placeholder = nil
            self.seenCounter = .passUnretained(metrics.seen)
            self.keptCounter = .passUnretained(metrics.kept)
            self.sampledOutCounter = .passUnretained(metrics.sampledOut)
        } else {
            let placeholder = Counter()
            self.counting = false
            self.placeholder = placeholder
            self.seenCounter = .passUnretained(placeholder)
            self.keptCounter = .passUnretained(placeholder)
            self.sampledOutCounter = .passUnretained(placeholder)
        }
        metrics?.probability.set(configuration.maximumProbability)
    }

    /// The current probability of keeping a non-critical event.
    public var probability: Double {
        Double(bitPattern: probabilityBits.load(ordering: .relaxed))
    }

    // MARK: - Decisions

    /// Decides one event: the weight to record it with (1/p, or 1 when critical
    /// or while p = 1), or nil when it is sampled out. Lock-free.
    @inlinable @inline(__always)
    public func shouldKeep(critical: Bool = false) -> Double? {
        if counting { seenCounter._withUnsafeGuaranteedRef { $0.increment() } }
        let p = Double(bitPattern: probabilityBits.load(ordering: .relaxed))
        if critical || p >= 1 {
            if counting { keptCounter._withUnsafeGuaranteedRef { $0.increment() } }
            return 1
        }
        // 53 random bits as a uniform number in [0, 1).
        if Double(nextRandom() >> 11) * 0x1p-53 < p {
            if counting { keptCounter._withUnsafeGuaranteedRef { $0.increment() } }
            return 1 / p
        }
        if counting { sampledOutCounter._withUnsafeGuaranteedRef { $0.increment() } }
        return nil
    }

    /// The same decision without touching the meta-metrics: for callers that
    /// count only once the outcome is final (``recordDecisions(kept:sampledOut:)``).
    @inlinable @inline(__always)
    public func decide(critical: Bool = false) -> Double? {
        let p = Double(bitPattern: probabilityBits.load(ordering: .relaxed))
        if critical || p >= 1 { return 1 }
        return Double(nextRandom() >> 11) * 0x1p-53 < p ? 1 / p : nil
    }

    /// Counts decisions made with ``decide(critical:)`` in the meta-metrics.
    public func recordDecisions(kept: Int, sampledOut: Int) {
        guard let metrics else { return }
        metrics.seen.increment(by: Int64(kept + sampledOut))
        metrics.kept.increment(by: Int64(kept))
        metrics.sampledOut.increment(by: Int64(sampledOut))
    }

    @inlinable @inline(__always)
    func nextRandom() -> UInt64 {
        guard isSeeded else { return c_tally_thread_random() }
        // SplitMix64 of seed + index × golden gamma: a counter-based generator.
        var z = seed &+ drawIndex.wrappingAdd(1, ordering: .relaxed).oldValue &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    // MARK: - Adjustments

    /// What one adjustment did.
    public enum Adjustment: Sendable, Hashable {
        case lowered
        case raised
        case unchanged
    }

    /// Moves the probability for this pressure (a fill fraction) by the
    /// configuration's step rule, within minimum and maximum; NaN changes nothing.
    @discardableResult
    public func adjust(pressure: Double) -> Adjustment {
        let c = configuration
        let current = probability
        var next = current
        if pressure > c.lowerAbove {
            next = max(c.minimumProbability, current * min(c.decreaseFactor, c.lowerAbove / pressure))
        } else if pressure < c.raiseBelow {
            next = min(c.maximumProbability, current * c.increaseFactor)
        }
        return store(next, from: current)
    }

    /// Sets the probability directly (clamped to minimum…maximum), e.g. to pin it in a benchmark.
    @discardableResult
    public func setProbability(_ probability: Double) -> Adjustment {
        guard !probability.isNaN else { return .unchanged }
        let next = min(configuration.maximumProbability, max(configuration.minimumProbability, probability))
        return store(next, from: self.probability)
    }

    private func store(_ next: Double, from current: Double) -> Adjustment {
        guard next != current else { return .unchanged }
        probabilityBits.store(next.bitPattern, ordering: .relaxed)
        metrics?.probability.set(next)
        if next < current {
            metrics?.adjustedDown.increment()
            return .lowered
        }
        metrics?.adjustedUp.increment()
        return .raised
    }
}
