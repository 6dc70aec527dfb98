/// How an ``AdaptiveSampler`` moves its probability with pressure.
///
/// Pressure is a fill fraction (0 = idle, 1 = at the configured limit, above 1
/// = past it). At every adjustment, pressure above ``lowerAbove`` lowers the
/// probability, pressure below ``raiseBelow`` raises it, anything in between
/// holds it (the band keeps it from oscillating). The step rule:
///
/// - lower: `p ← max(minimum, p × min(decreaseFactor, lowerAbove / pressure))`
///   — at least halving by default, and in one step by as much as the
///   overshoot when the pressure is far past the watermark;
/// - raise: `p ← min(maximum, p × increaseFactor)` — doubling by default, so
///   recovering to 1 from 0.01 takes seven intervals.
public struct SamplerConfiguration: Sendable, Hashable {
    /// The lowest probability the sampler goes to (default 0.01; at least 10⁻⁶, so that a kept
    /// event's weight 1/p stays within ``EventRecord/maxWeight``).
    public var minimumProbability: Double
    /// The highest probability, and the starting one (default 1: everything kept).
    public var maximumProbability: Double
    /// Pressure above which the probability is lowered (default 0.8).
    public var lowerAbove: Double
    /// Pressure below which the probability is raised (default 0.3).
    public var raiseBelow: Double
    /// The largest factor a lowering step multiplies by (default 0.5).
    public var decreaseFactor: Double
    /// The factor a raising step multiplies by (default 2).
    public var increaseFactor: Double
    /// How often the owner is to read the pressure and call ``AdaptiveSampler/adjust(pressure:)``
    /// (default 1 s; the sampler does not read it itself).
    public var interval: Duration

    public init(
        minimumProbability: Double = 0.01,
        maximumProbability: Double = 1,
        lowerAbove: Double = 0.8,
        raiseBelow: Double = 0.3,
        decreaseFactor: Double = 0.5,
        increaseFactor: Double = 2,
        interval: Duration = .seconds(1)
    ) throws(SamplerConfigurationError) {
        // 1/p is the kept events' weight, which workers bound by EventRecord.maxWeight (10⁶).
        guard minimumProbability >= 1 / EventRecord.maxWeight, minimumProbability <= maximumProbability, maximumProbability <= 1 else {
            throw .invalid("probabilities must satisfy 0.000001 ≤ minimum ≤ maximum ≤ 1, got minimum \(minimumProbability), maximum \(maximumProbability)")
        }
        guard raiseBelow >= 0, raiseBelow < lowerAbove else {
            throw .invalid("watermarks must satisfy 0 ≤ raiseBelow < lowerAbove, got raiseBelow \(raiseBelow), lowerAbove \(lowerAbove)")
        }
        guard decreaseFactor > 0, decreaseFactor < 1 else {
            throw .invalid("decreaseFactor must be in (0, 1), got \(decreaseFactor)")
        }
        guard increaseFactor > 1, increaseFactor.isFinite else {
            throw .invalid("increaseFactor must be finite and > 1, got \(increaseFactor)")
        }
        guard interval > .zero else { throw .invalid("interval must be positive, got \(interval)") }
        self.minimumProbability = minimumProbability
        self.maximumProbability = maximumProbability
        self.lowerAbove = lowerAbove
        self.raiseBelow = raiseBelow
        self.decreaseFactor = decreaseFactor
        self.increaseFactor = increaseFactor
        self.interval = interval
    }

    /// The defaults: 1 %–100 %, lower above 80 %, raise below 30 %, halve / double, every second.
    public static let `default` = try! SamplerConfiguration()
}

/// A sampler configuration that cannot work; the message names the value.
public enum SamplerConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): "invalid sampler configuration: \(message)"
        }
    }
}
