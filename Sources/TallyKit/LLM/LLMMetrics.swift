import TallyCore
import TallyMetrics

/// LLM API usage by endpoint and model: `llm_api_calls_total{endpoint,model,outcome}`,
/// `llm_api_call_duration_seconds{endpoint,model}`,
/// `llm_tokens_total{endpoint,model,kind}`, `llm_cost_dollars_total{endpoint,model}`
/// and `llm_unpriced_calls_total{endpoint,model}`.
///
/// Endpoints are declared; models are the price table's plus any declared
/// without a price. Anything else is recorded under `__overflow__`. A call's
/// cost is the one its caller gives (the provider's own figure), else the
/// price table's; a call with neither still counts its calls and tokens, adds
/// no cost (its cost is unknown, never guessed), and is counted in
/// `llm_unpriced_calls_total`, so that a dashboard can tell how much of the
/// spend `llm_cost_dollars_total` does not see.
/// Thread-safe; each call looks its series up in capped families.
public struct LLMMetrics: Sendable {
    public let endpoints: DeclaredLabelValues
    public let models: DeclaredLabelValues
    public let prices: LLMPriceTable
    let calls: MetricFamily<Counter>
    let durations: MetricFamily<Histogram>
    let tokens: MetricFamily<Counter>
    let cost: MetricFamily<FloatingCounter>
    let unpriced: MetricFamily<Counter>

    /// - Parameters:
    ///   - endpoints: the declared values of `endpoint`.
    ///   - prices: the models with a price.
    ///   - unpricedModels: further declared models, whose callers give the cost (or whose cost is unknown).
    public init(registry: MetricsRegistry, endpoints: [String], prices: LLMPriceTable, unpricedModels: [String] = []) throws {
        self.endpoints = DeclaredLabelValues(endpoints)
        self.models = DeclaredLabelValues(prices.prices.keys.sorted() + unpricedModels.sorted())
        self.prices = prices
        let pairs = (self.endpoints.values.count + 1) * (self.models.values.count + 1)
        calls = try registry.family(Counter.self, name: "llm_api_calls_total", help: "LLM API calls by endpoint, model and outcome.",
                                    labelNames: ["endpoint", "model", "outcome"], options: NoOptions(), maxSeries: 2 * pairs)
        durations = try registry.family(Histogram.self, name: "llm_api_call_duration_seconds", help: "Duration of one LLM API call.",
                                        labelNames: ["endpoint", "model"], options: KitBuckets.slowSeconds, maxSeries: pairs)
        tokens = try registry.family(Counter.self, name: "llm_tokens_total", help: "LLM tokens billed, by kind (input/output).",
                                     labelNames: ["endpoint", "model", "kind"], options: NoOptions(), maxSeries: 2 * pairs)
        cost = try registry.family(FloatingCounter.self, name: "llm_cost_dollars_total", help: "LLM API cost in dollars, as the caller gave it or from the price table.",
                                   labelNames: ["endpoint", "model"], options: NoOptions(), maxSeries: pairs)
        unpriced = try registry.family(Counter.self, name: "llm_unpriced_calls_total", help: "LLM API calls with neither a given cost nor a price: their cost is missing from llm_cost_dollars_total.",
                                       labelNames: ["endpoint", "model"], options: NoOptions(), maxSeries: pairs)
    }

    /// Records one call; returns the cost in dollars it added (nil when it is unknown).
    ///
    /// - Parameter cost: the call's cost in dollars as the provider reported it; it wins over the
    ///   price table. A negative, infinite or NaN cost is ignored (the price table decides).
    @discardableResult
    public func recordCall(endpoint: String, model: String, inputTokens: Int, outputTokens: Int,
                           duration: Duration? = nil, success: Bool = true, cost given: Double? = nil) -> Double? {
        let endpoint = endpoints.resolve(endpoint)
        let model = models.resolve(model)
        calls.labels(endpoint, model, success ? "success" : "failure").increment()
        if let duration { durations.labels(endpoint, model).observe(duration.secondsValue) }
        if inputTokens > 0 { tokens.labels(endpoint, model, "input").increment(by: Int64(inputTokens)) }
        if outputTokens > 0 { tokens.labels(endpoint, model, "output").increment(by: Int64(outputTokens)) }
        let valid = given.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        guard let dollars = valid ?? prices.cost(model: model, inputTokens: max(0, inputTokens), outputTokens: max(0, outputTokens)) else {
            unpriced.labels(endpoint, model).increment()
            return nil
        }
        cost.labels(endpoint, model).increment(by: dollars)
        return dollars
    }
}
