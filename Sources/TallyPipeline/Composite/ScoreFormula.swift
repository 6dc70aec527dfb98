/// The productivity score 0–100: a weighted mean of ratios in 0…1, times 100.
///
///     score = 100 × Σ wᵢ·rᵢ / Σ wᵢ   over the components that have data
///
/// Components (over the window): the suggestion acceptance ratio, the tool
/// success ratio (all tools), and a latency component `min(1, target / p95)`
/// (1 while p95 completion latency is within `latencyTargetSeconds`). A
/// component without data (no completions, no tool calls) is left out and the
/// other weights renormalised; with no data at all there is no score.
/// Weights must be ≥ 0; they need not sum to 1.
public struct ScoreFormula: Sendable, Hashable, Codable {
    public var acceptanceWeight: Double = 0.5
    public var toolSuccessWeight: Double = 0.3
    public var latencyWeight: Double = 0.2
    public var latencyTargetSeconds: Double = 1

    public init() {}

    public static let `default` = ScoreFormula()

    /// Reads weights written `acceptance=0.5,tools=0.3,latency=0.2` (any of the three, in any
    /// order; the others keep their values), as `--score-weights` takes them.
    public mutating func setWeights(_ text: String) throws(InvalidSetting) {
        var seen: Set<Substring> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair[0].trimmingSpaces
            guard pair.count == 2, let weight = Double(pair[1].trimmingSpaces), weight.isFinite, weight >= 0 else {
                throw InvalidSetting("--score-weights takes name=weight pairs (acceptance, tools, latency; weights ≥ 0) separated by commas, got '\(text)'")
            }
            guard seen.insert(name).inserted else { throw InvalidSetting("--score-weights names '\(name)' twice in '\(text)'") }
            switch name {
            case "acceptance": acceptanceWeight = weight
            case "tools": toolSuccessWeight = weight
            case "latency": latencyWeight = weight
            default: throw InvalidSetting("--score-weights: unknown component '\(name)' (the components are acceptance, tools and latency)")
            }
        }
    }

    /// Throws unless the weights are finite, ≥ 0 and not all 0, and the latency target is in (0, 3600] seconds.
    public func validate() throws(InvalidSetting) {
        let weights = [acceptanceWeight, toolSuccessWeight, latencyWeight]
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }), weights.reduce(0, +) > 0 else {
            throw InvalidSetting("score weights must be finite, ≥ 0 and not all 0, got acceptance=\(acceptanceWeight), tools=\(toolSuccessWeight), latency=\(latencyWeight)")
        }
        guard latencyTargetSeconds > 0, latencyTargetSeconds <= 3600 else {
            throw InvalidSetting("--score-latency-target must be more than 0 and at most 3600 seconds, got \(latencyTargetSeconds)")
        }
    }

    /// The score for a window, or nil when no component has data.
    public func score(for window: WindowSnapshot) -> Double? {
        var components: [(weight: Double, ratio: Double)] = []
        if window.completions > 0 {
            components.append((acceptanceWeight, window.accepted / window.completions))
        }
        let tools = window.toolCalls.values.reduce(OutcomeCounts(), +)
        if let ratio = tools.successRatio {
            components.append((toolSuccessWeight, ratio))
        }
        if let p95 = window.latency.quantile(0.95) {
            components.append((latencyWeight, p95 <= 0 ? 1 : min(1, latencyTargetSeconds / p95)))
        }
        let totalWeight = components.map(\.weight).reduce(0, +)
        guard totalWeight > 0 else { return nil }
        let value = 100 * components.map { $0.weight * $0.ratio }.reduce(0, +) / totalWeight
        return min(100, max(0, value))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
