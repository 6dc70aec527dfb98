import TallyKit
import TallyMetrics
import Testing

/// Client input never creates series: 100,000 distinct conversations, clients,
/// endpoints, models, query types or reasons leave the series count where the
/// declared sets put it.
@Suite struct KitCardinalityTests {
    static func seriesLines(_ registry: MetricsRegistry, prefix: String) -> Int {
        registry.renderString().split(separator: "\n").filter { $0.hasPrefix(prefix) }.count
    }

    @Test func oneHundredThousandConversationsLeaveOneConnectionGauge() throws {
        let registry = MetricsRegistry()
        let socket = try WebSocketMetrics(registry: registry)
        for conversation in 0..<100_000 {
            socket.recordConnection()
            socket.recordMessageSent(bytes: conversation % 4096)
            socket.recordMessageFailed(reason: "conversation-\(conversation)")
            socket.recordDisconnection(reason: "client-\(conversation)")
        }
        #expect(socket.openConnections == 0)
        let text = registry.renderString()
        #expect(text.contains("websocket_connections 0"))
        #expect(text.contains(#"websocket_messages_failed_total{reason="__overflow__"} 100000"#))
        #expect(text.contains(#"websocket_disconnections_total{reason="__overflow__"} 100000"#))
        #expect(Self.seriesLines(registry, prefix: "websocket_disconnections_total{") == WebSocketMetrics.defaultDisconnectReasons.count + 1)
        #expect(!text.contains("conversation-"))
    }

    @Test func oneHundredThousandEndpointsAndModelsLeaveTheDeclaredSeries() throws {
        let registry = MetricsRegistry()
        let prices = LLMPriceTable(["small": .init(inputPerMillionTokens: 1, outputPerMillionTokens: 2)])
        let llm = try LLMMetrics(registry: registry, endpoints: ["/v1/chat"], prices: prices)
        for i in 0..<100_000 {
            llm.recordCall(endpoint: "/v1/user/\(i)", model: i % 2 == 0 ? "small" : "model-\(i)", inputTokens: 10, outputTokens: 1)
        }
        // endpoint ∈ {/v1/chat, overflow} × model ∈ {small, overflow}: only the overflow endpoint was used.
        #expect(Self.seriesLines(registry, prefix: "llm_api_calls_total{") == 2)
        #expect(Self.seriesLines(registry, prefix: "llm_cost_dollars_total{") == 1)  // unpriced models add no cost
        let cost = registry.renderString().split(separator: "\n").first { $0.hasPrefix("llm_cost_dollars_total{") }!
        let dollars = Double(cost.split(separator: " ").last!)!
        #expect(abs(dollars - 0.6) < 1e-9, "\(cost)")  // 50,000 × (10 × 1 + 1 × 2) / 1e6
    }

    @Test func oneHundredThousandClientsLeaveOneRateLimitSeries() throws {
        let registry = MetricsRegistry()
        let limiter = try RateLimitMetrics(registry: registry, limiter: "messages")
        for _ in 0..<100_000 { limiter.recordHit() }
        limiter.setLimitedClients(100_000)
        #expect(registry.renderString().contains(#"rate_limit_hits_total{limiter="messages"} 100000"#))
        #expect(Self.seriesLines(registry, prefix: "rate_limit_hits_total{") == 1)
    }

    @Test func undeclaredQueryTypesGoToTheOverflowSeries() throws {
        let registry = MetricsRegistry()
        let queries = try DatabaseQueryMetrics(registry: registry, pool: "main", queryTypes: ["select"])
        for i in 0..<100_000 { queries.record("SELECT * FROM t WHERE id = \(i)", seconds: 0.001) }
        #expect(registry.renderString().contains(#"db_query_duration_seconds_count{pool="main",query_type="__overflow__"} 100000"#))
        #expect(Self.seriesLines(registry, prefix: "db_query_duration_seconds_count{") == 2)
    }

    @Test func twoPoolsShareTheFamiliesAndARegistrationConflictThrows() throws {
        let registry = MetricsRegistry()
        _ = try DatabasePoolMetrics(registry: registry, pool: "a", maxConnections: 4)
        _ = try DatabasePoolMetrics(registry: registry, pool: "b", maxConnections: 8)
        #expect(Self.seriesLines(registry, prefix: "db_pool_max_connections{") == 2)
        _ = try WebSocketMetrics(registry: registry)
        #expect(throws: MetricsRegistryError.self) { try WebSocketMetrics(registry: registry) }
    }
}
