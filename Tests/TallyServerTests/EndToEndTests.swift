import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TallyPipeline
import TallyTesting
@testable import TallyServer

@Suite struct EndToEndTests {
    /// A known event set: 2 sessions, 4 completions (3 accepted), 3 tool calls (grep ×2 one failing, edit ×1), 1 error.
    static let events = """
    {"type":"session_start","session_id":"a"}
    {"type":"session_start","session_id":"b"}
    {"type":"completion","session_id":"a","latency_ms":100,"accepted":true}
    {"type":"completion","session_id":"a","latency_ms":200,"accepted":true}
    {"type":"completion","session_id":"b","latency_ms":300,"accepted":false}
    {"type":"completion","session_id":"b","latency_ms":400,"accepted":true}
    {"type":"tool_call","session_id":"a","tool":"grep","success":true}
    {"type":"tool_call","session_id":"a","tool":"grep","success":false}
    {"type":"tool_call","session_id":"b","tool":"edit","success":true}
    {"type":"error","session_id":"b","code":"rate_limited"}
    """

    static func sendAndCheck(_ node: TallyNodeComponents, _ client: any TestClientProtocol) async throws {
        let response = try await client.postEvents(Self.events, contentType: "application/x-ndjson")
        #expect(response.status == .accepted)
        #expect(response.json["accepted"] as? Int == 10)
        let processed = try await eventually {
            let figures = try await node.log.figures()
            return figures.pending == 0 && figures.lag == 0 && figures.length == 10
                && node.pipelineMetrics.processed.labels("tool_call").value == 3
        }
        #expect(processed)
        // The session figures are the leader's (a `tally serve` node runs one): one round computes them.
        _ = try await ScoreLeader(store: node.store, node: "end-to-end").runOnce()

        let metrics = try await client.execute(uri: "/v1/metrics", method: .get)
        #expect(metrics.status == .ok)
        let json = metrics.json
        #expect(json["completions"] as? Double == 4)
        #expect(json["acceptanceRatio"] as? Double == 0.75)
        #expect(json["activeSessions"] as? Int == 2)
        let tools = json["toolCalls"] as? [String: [String: Double]]
        #expect(tools?["grep"] == ["success": 1, "failure": 1])
        #expect(tools?["edit"] == ["success": 1, "failure": 0])
        #expect((json["toolSuccessRatio"] as? [String: Double])?["grep"] == 0.5)
        #expect((json["clientErrors"] as? [String: Double])?["rate_limited"] == 1)
        let latency = json["completionLatencySeconds"] as? [String: Double]
        #expect(latency?["count"] == 4)
        // p50 of 0.1, 0.2, 0.3, 0.4 s is 0.2 s at rank floor(0.5 × 3) = 1, within the sketch's 0.55 %.
        #expect(latency?["p50"].map { abs($0 - 0.2) / 0.2 <= 0.0055 } == true)

        // Reading the JSON changed no gauge: /metrics shows what the refresher last read, and the
        // refresher (every refresh interval in a running node) has not run in this harness yet.
        let before = ExpositionSamples(try await client.execute(uri: "/metrics", method: .get).text)
        #expect(before["tally_suggestion_acceptance_ratio"]?.isNaN == true)
        try await node.exporter.refresh()

        let text = try await client.execute(uri: "/metrics", method: .get)
        #expect(text.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        let samples = ExpositionSamples(text.text)
        #expect(samples["tally_suggestion_acceptance_ratio"] == 0.75)
        #expect(samples["tally_tool_calls_total{tool=\"grep\",outcome=\"failure\"}"] == 1)
        #expect(samples["tally_events_ingested_total{type=\"completion\"}"] == 4)
        #expect(samples["tally_completion_latency_seconds_count"] == 4)
        let problems = try await ExpositionCheckers.promtoolProblems(Array(text.text.utf8))
        #expect(problems.isEmpty, "promtool: \(problems)")

        let openMetrics = try await client.execute(uri: "/metrics", method: .get, headers: [.accept: "application/openmetrics-text; version=1.0.0"])
        #expect(openMetrics.headers[.contentType] == "application/openmetrics-text; version=1.0.0; charset=utf-8")
        #expect(openMetrics.text.hasSuffix("# EOF\n"))
        let parsed = try await ExpositionCheckers.openMetricsSamples(Array(openMetrics.text.utf8))
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
    }

    @Test func eventsBecomeExactDerivedMetricsOnTheEmbeddedBackend() async throws {
        try await withTestNode { node, client in
            try await Self.sendAndCheck(node, client)
        }
    }

    @Test func eventsBecomeExactDerivedMetricsOnRedis() async throws {
        let redis = try await RedisServer.start()
        defer { Task { await redis.stop() } }
        try await withTestNode(redisURL: redis.url) { node, client in
            try await Self.sendAndCheck(node, client)
        }
        await redis.stop()
    }

    @Test func ingestAnswers503WhileRedisIsDownAndRecoversByItself() async throws {
        let redis = try await RedisServer.start()
        try await withTestNode(redisURL: redis.url) { node, client in
            #expect(try await client.postEvents(IngestTests.completion).status == .accepted)
            await redis.kill()
            let refused = try await client.postEvents(IngestTests.completion)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
            let health = try await client.execute(uri: "/health/ready", method: .get)
            #expect(health.status == .serviceUnavailable)
            try await redis.restart()
            let recovered = try await eventually {
                try await client.postEvents(IngestTests.completion).status == .accepted
            }
            #expect(recovered)
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .ok)
        }
        await redis.stop()
    }

    @Test func debugRingsShowRecentRequestsAndErrors() async throws {
        try await withTestNode { _, client in
            _ = try await client.postEvents("{")
            _ = try await client.execute(uri: "/health/live", method: .get)
            let recent = try await client.execute(uri: "/v1/debug/recent", method: .get)
            let json = recent.json
            #expect((json["requests"] as? [Any])?.count == 2)
            #expect((json["errors"] as? [[String: Any]])?.first?["status"] as? Int == 400)
        }
    }
}
