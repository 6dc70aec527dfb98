import TallyKit
import TallyMetrics
import TallyTesting
import Testing

/// Every kit type in one registry: the exposition passes promtool, and the names are the contract's.
@Suite struct KitExpositionTests {
    static func populatedRegistry() throws -> MetricsRegistry {
        let registry = MetricsRegistry()
        let pool = try DatabasePoolMetrics(registry: registry, pool: "main", maxConnections: 10)
        pool.setConnections(active: 3, idle: 7, waiting: 1)
        pool.recordAcquire(.milliseconds(2))
        pool.recordAcquireTimeout()
        let queries = try DatabaseQueryMetrics(registry: registry, pool: "main", queryTypes: ["select", "insert"])
        queries.record("select", seconds: 0.003)
        queries.record("insert", seconds: 0.01, failed: true)
        let cache = try CacheMetrics(registry: registry, cache: "sessions")
        cache.recordGet(hit: true, duration: .microseconds(300))
        cache.recordSet()
        let llm = try LLMMetrics(registry: registry, endpoints: ["/v1/generate"],
                                 prices: LLMPriceTable(["small": .init(inputPerMillionTokens: 0.5, outputPerMillionTokens: 1.5)]))
        llm.recordCall(endpoint: "/v1/generate", model: "small", inputTokens: 1000, outputTokens: 200, duration: .milliseconds(800))
        let socket = try WebSocketMetrics(registry: registry, maxMessageBytes: 1000)
        socket.recordConnection()
        socket.recordMessageSent(bytes: 120)
        socket.recordMessageSent(bytes: 5000)
        socket.recordMessageQueued()
        socket.recordMessageFailed(reason: "timeout")
        socket.recordRetryAttempt()
        socket.recordError(kind: "protocol")
        socket.recordCircuitBreakerOpened()
        socket.recordDisconnection(reason: "going_away")
        try MessageSearchMetrics(registry: registry).recordSearch(success: false)
        let limiter = try RateLimitMetrics(registry: registry, limiter: "messages")
        limiter.recordHit()
        limiter.setLimitedClients(4)
        let queue = try QueueMetrics(registry: registry, queue: "jobs")
        queue.recordEnqueued(3)
        queue.recordConsumed(2)
        queue.recordWait(seconds: 0.2)
        queue.setDepth(1, oldestAgeSeconds: 0.5)
        _ = try BoundedBuffer<Int>(name: "events", capacity: 10, registry: registry) { _ in }
        return registry
    }

    @Test func theKitsMetricsPassPromtool() async throws {
        let registry = try Self.populatedRegistry()
        let problems = try await ExpositionCheckers.promtoolProblems(registry.render(format: .prometheusText))
        #expect(problems.isEmpty, "promtool: \(problems)")
        let openMetrics = try await ExpositionCheckers.openMetricsSamples(registry.render(format: .openMetrics))
        #expect(openMetrics.error == nil, "\(openMetrics.error ?? "")")
    }

    @Test func everyNameOfTheContractIsExported() throws {
        let text = try Self.populatedRegistry().renderString()
        let names = [
            "db_pool_connections", "db_pool_max_connections", "db_pool_waiting_requests", "db_pool_acquire_duration_seconds",
            "db_pool_acquire_timeouts_total", "db_query_duration_seconds", "db_query_errors_total",
            "cache_operations_total", "cache_operation_duration_seconds",
            "llm_api_calls_total", "llm_api_call_duration_seconds", "llm_tokens_total", "llm_cost_dollars_total",
            "websocket_connections", "websocket_connections_opened_total", "websocket_disconnections_total",
            "websocket_messages_sent_total", "websocket_messages_queued_total", "websocket_messages_failed_total",
            "websocket_message_retries_total", "websocket_errors_total", "websocket_circuit_breaker_state",
            "websocket_circuit_breaker_transitions_total", "websocket_message_size_bytes", "websocket_messages_oversized_total",
            "message_searches_total", "rate_limit_hits_total", "rate_limited_clients",
            "queue_depth_messages", "queue_oldest_message_age_seconds", "queue_message_wait_seconds", "queue_enqueued_total", "queue_consumed_total",
            "tally_buffer_events", "tally_buffer_capacity_events", "tally_buffer_dropped_total", "tally_buffer_flush_duration_seconds",
        ]
        for name in names {
            #expect(text.contains("# TYPE \(name) "), "\(name) missing")
        }
        #expect(text.contains(#"db_pool_connections{pool="main",state="active"} 3"#))
        #expect(text.contains(#"websocket_messages_oversized_total 1"#))
        #expect(text.contains(#"websocket_circuit_breaker_state 2"#))
        #expect(text.contains(#"llm_tokens_total{endpoint="/v1/generate",model="small",kind="input"} 1000"#))
        #expect(text.contains(#"message_searches_total{outcome="failure"} 1"#))
    }
}
