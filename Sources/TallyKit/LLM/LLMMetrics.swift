import TallyMetrics

/// LLM API usage by endpoint and model: `llm_api_calls_total{endpoint,model,outcome}`,
/// `llm_api_call_duration_seconds{endpoint,model}`,
/// `llm_tokens_total{endpoint,model,kind}` and `llm_cost_dollars_total{endpoint,model}`.
///
/// Endpoints are declared; models are the price table's. Anything else is
/// recorded under `__overflow__`; a model without a price still counts its
/// calls and tokens, but adds no cost (its cost is unknown, never guessed).
/// Thread-safe; each call looks its series up in capped families.
public struct LLMMetrics: Sendable {
    public let endpoints: DeclaredLabelValues
    public let models: DeclaredLabelValues
    public let prices: LLMPriceTable
    let calls: MetricFamily<Counter>
    let durations: MetricFamily<Histogram>
    let tokens: MetricFamily<Counter>
    let cost: MetricFamily<FloatingCounter>

    public init(registry: MetricsRegistry, endpoints: [String], prices: LLMPriceTable) throws {
        self.endpoints = DeclaredLabelValues(endpoints)
        self.models = DeclaredLabelValues(prices.prices.keys.sorted())
        self.prices = prices
        let pairs = (self.endpoints.values.count + 1) * (self.models.values.count + 1)
        calls = try registry.family(Counter.self, name: "llm_api_calls_total", help: "LLM API calls by endpoint, model and outcome.",
                                    labelNames: ["endpoint", "model", "outcome"], options: NoOptions(), maxSeries: 2 * pairs)
        durations = try registry.family(Histogram.self, name: "llm_api_call_duration_seconds", help: "Duration of one LLM API call.",
                                        labelNames: ["endpoint", "model"], options: KitBuckets.slowSeconds, maxSeries: pairs)
        tokens = try registry.family(Counter.self, name: "llm_tokens_total", help: "LLM tokens billed, by kind (input/output).",
                                     labelNames: ["endpoint", "model", "kind"], options: NoOptions(), maxSeries: 2 * pairs)
        cost = try registry.family(FloatingCounter.self, name: "llm_cost_dollars_total", help: "LLM API cost in dollars, from the configured price table.",
                                   labelNames: ["endpoint", "model"], options: NoOptions(), maxSeries: pairs)
    }

    /// Records one call; returns its cost in dollars (nil when the model has no price).
    @discardableResult
    public func recordCall(endpoint: String, model: String, inputTokens: Int, outputTokens: Int,
                           duration: Duration? = nil, success: Bool = true) -> Double? {
        let endpoint = endpoints.resolve(endpoint)
        let model = models.resolve(model)
        calls.labels(endpoint, model, success ? "success" : "failure").increment()
        if let duration { durations.labels(endpoint, model).observe(kitSeconds(duration)) }
        if inputTokens > 0 { tokens.labels(endpoint, model, "input").increment(by: Int64(inputTokens)) }
        if outputTokens > 0 { tokens.labels(endpoint, model, "output").increment(by: Int64(outputTokens)) }
        guard let dollars = prices.cost(model: model, inputTokens: max(0, inputTokens), outputTokens: max(0, outputTokens)) else { return nil }
        cost.labels(endpoint, model).increment(by: dollars)
        return dollars
    }
}
