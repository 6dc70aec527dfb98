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
