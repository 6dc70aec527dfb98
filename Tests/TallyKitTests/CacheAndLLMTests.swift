import TallyKit
import TallyMetrics
import TallyTesting
import Testing

@Suite struct CacheAndLLMTests {
    @Test func theHitRatioIsHitsOverHitsAndMisses() throws {
        let cache = try CacheMetrics(registry: MetricsRegistry(), cache: "c")
        #expect(cache.hitRatio == nil)
        for i in 0..<100 { cache.recordGet(hit: i % 4 != 0) }
        cache.recordGet(hit: nil)  // an error is neither
        #expect(cache.hitRatio == 0.75)
    }

    @Test func theCostComesFromThePriceTablePerMillionTokens() throws {
        let registry = MetricsRegistry()
        let llm = try LLMMetrics(registry: registry, endpoints: ["/gen"],
                                 prices: LLMPriceTable(["m": .init(inputPerMillionTokens: 3, outputPerMillionTokens: 15)]))
        let cost = llm.recordCall(endpoint: "/gen", model: "m", inputTokens: 2_000, outputTokens: 1_000, success: false)
        #expect(cost.map { abs($0 - 0.021) < 1e-12 } == true)
        #expect(llm.recordCall(endpoint: "/gen", model: "unknown", inputTokens: 5, outputTokens: 5) == nil)
        let text = registry.renderString()
        #expect(text.contains(#"llm_api_calls_total{endpoint="/gen",model="m",outcome="failure"} 1"#))
        #expect(text.contains(#"llm_tokens_total{endpoint="/gen",model="__overflow__",kind="output"} 5"#))
    }

    @Test func aGivenCostWinsOverThePriceTableAndAnUnknownCostIsCounted() throws {
        let registry = MetricsRegistry()
        let llm = try LLMMetrics(registry: registry, endpoints: ["/gen"],
                                 prices: LLMPriceTable(["m": .init(inputPerMillionTokens: 3, outputPerMillionTokens: 15)]),
                                 unpricedModels: ["provider-priced"])
        // The provider's own figure wins, for a priced model too.
        #expect(llm.recordCall(endpoint: "/gen", model: "m", inputTokens: 2_000, outputTokens: 1_000, cost: 0.5) == 0.5)
        // A declared model without a price: its own series, with the given cost.
        #expect(llm.recordCall(endpoint: "/gen", model: "provider-priced", inputTokens: 10, outputTokens: 10, cost: 0.25) == 0.25)
        // No cost and no price: no cost recorded, counted as unpriced (declared and undeclared models alike).
        #expect(llm.recordCall(endpoint: "/gen", model: "provider-priced", inputTokens: 10, outputTokens: 10) == nil)
        #expect(llm.recordCall(endpoint: "/gen", model: "nobody-knows", inputTokens: 1, outputTokens: 1) == nil)
        // A cost that is not a number of dollars is ignored: the price table decides.
        for bad in [-1.0, .nan, .infinity] {
            let cost = llm.recordCall(endpoint: "/gen", model: "m", inputTokens: 1_000_000, outputTokens: 0, cost: bad)
            #expect(cost == 3)
        }
        #expect(llm.recordCall(endpoint: "/gen", model: "provider-priced", inputTokens: 1, outputTokens: 1, cost: -5) == nil)
        let samples = ExpositionSamples(registry.renderString())
        #expect(samples[#"llm_cost_dollars_total{endpoint="/gen",model="m"}"#] == 9.5)
        #expect(samples[#"llm_cost_dollars_total{endpoint="/gen",model="provider-priced"}"#] == 0.25)
        #expect(samples[#"llm_unpriced_calls_total{endpoint="/gen",model="provider-priced"}"#] == 2)
        #expect(samples[#"llm_unpriced_calls_total{endpoint="/gen",model="__overflow__"}"#] == 1)
        #expect(samples[#"llm_api_calls_total{endpoint="/gen",model="provider-priced",outcome="success"}"#] == 3)
    }
}
