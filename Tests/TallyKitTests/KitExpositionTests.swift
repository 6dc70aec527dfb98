import TallyKit
import TallyMetrics
import TallyTesting
import Testing

/// Every kit type in one registry: the exposition passes promtool, and the names are the contract's.
@Suite struct KitExpositionTests {
    @Test func theKitsMetricsPassPromtool() async throws {
        let registry = try KitExposition.populatedRegistry()
        let problems = try await ExpositionCheckers.promtoolProblems(registry.render(format: .prometheusText))
        #expect(problems.isEmpty, "promtool: \(problems)")
        let openMetrics = try await ExpositionCheckers.openMetricsSamples(registry.render(format: .openMetrics))
        #expect(openMetrics.error == nil, "\(openMetrics.error ?? "")")
    }

    @Test func everyNameOfTheContractIsExported() throws {
        let text = try KitExposition.populatedRegistry().renderString()
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
            "tally_buffer_appended_total", "llm_unpriced_calls_total", "websocket_retried_messages_total", "message_delivery_latency_seconds",
            "redis_up", "redis_used_memory_bytes", "redis_maxmemory_bytes", "redis_connected_clients", "redis_blocked_clients",
            "redis_evicted_keys_total", "redis_keyspace_hits_total", "redis_keyspace_misses_total", "redis_commands_processed_total",
            "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
            "process_max_fds", "process_start_time_seconds", "app_build_info",
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
