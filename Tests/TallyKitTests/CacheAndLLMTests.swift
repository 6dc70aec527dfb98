import TallyKit
import TallyMetrics
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
}
