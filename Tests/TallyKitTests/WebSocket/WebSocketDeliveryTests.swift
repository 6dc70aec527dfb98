import TallyKit
import TallyMetrics
import TallyTesting
import Testing

/// What happened to retried messages, and how long delivery took by path.
@Suite struct WebSocketDeliveryTests {
    @Test func retriedMessagesAreCountedByFinalOutcome() throws {
        let registry = MetricsRegistry()
        let socket = try WebSocketMetrics(registry: registry)
        // Three messages needed retries (5 attempts in all): two got through, one was given up.
        for _ in 0..<5 { socket.recordRetryAttempt() }
        socket.recordRetryOutcome(delivered: true)
        socket.recordRetryOutcome(delivered: true)
        socket.recordRetryOutcome(delivered: false)
        let samples = ExpositionSamples(registry.renderString())
        #expect(samples["websocket_message_retries_total"] == 5)
        #expect(samples[#"websocket_retried_messages_total{outcome="delivered"}"#] == 2)
        #expect(samples[#"websocket_retried_messages_total{outcome="failed"}"#] == 1)
    }

    @Test func deliveryLatencyIsObservedPerPath() throws {
        let registry = MetricsRegistry()
        let socket = try WebSocketMetrics(registry: registry)
        socket.recordDeliveryLatency(.milliseconds(3), path: .direct)
        socket.recordDeliveryLatency(.milliseconds(7), path: .direct)
        socket.recordDeliveryLatency(seconds: 42, path: .queued)
        socket.recordDeliveryLatency(seconds: 1.5, path: .retried)
        socket.recordDeliveryLatency(seconds: -1, path: .retried)  // a clock that went back: ignored
        socket.recordDeliveryLatency(seconds: .nan, path: .retried)
        let samples = ExpositionSamples(registry.renderString())
        #expect(samples[#"message_delivery_latency_seconds_count{path="direct"}"#] == 2)
        #expect(samples[#"message_delivery_latency_seconds_sum{path="direct"}"#].map { abs($0 - 0.01) < 1e-12 } == true)
        #expect(samples[#"message_delivery_latency_seconds_bucket{path="direct",le="0.005"}"#] == 1)
        #expect(samples[#"message_delivery_latency_seconds_count{path="queued"}"#] == 1)
        #expect(samples[#"message_delivery_latency_seconds_bucket{path="queued",le="30.0"}"#] == 0)
        #expect(samples[#"message_delivery_latency_seconds_bucket{path="queued",le="60.0"}"#] == 1)
        #expect(samples[#"message_delivery_latency_seconds_count{path="retried"}"#] == 1)
    }
}
