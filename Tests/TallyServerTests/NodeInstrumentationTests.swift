import Foundation
import Hummingbird
import HummingbirdTesting
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing
@testable import TallyServer

/// The node uses the kit on itself: its Redis pool and commands, the event log
/// as a queue, Redis's INFO figures, and the ingest sampler fed by the lag.
@Suite struct NodeInstrumentationTests {
    @Test func aRedisNodeExportsItsPoolCommandsQueueAndRedisFigures() async throws {
        let redis = try await RedisServer.start()
        try await withTestNode(redisURL: redis.url) { node, client in
            let response = try await client.postEvents(EndToEndTests.events, contentType: "application/x-ndjson")
            #expect(response.status == .accepted)
            #expect(try await eventually { node.pipelineMetrics.queue.consumed.value == 10 })
            await node.monitorLoad()
            let text = try await client.execute(uri: "/metrics", method: .get).text
            let samples = ExpositionSamples(text)
            #expect(samples[#"db_pool_max_connections{pool="redis"}"#] == 4)
            #expect((samples[#"db_pool_connections{pool="redis",state="idle"}"#] ?? 0) >= 1)
            #expect((samples[#"db_pool_acquire_duration_seconds_count{pool="redis"}"#] ?? 0) > 0)
            #expect((samples[#"db_query_duration_seconds_count{pool="redis",query_type="evalsha"}"#] ?? 0) >= 2)  // append + apply
            #expect(samples[#"db_query_duration_seconds_count{pool="redis",query_type="__overflow__"}"#] == 0)
            #expect(samples[#"queue_enqueued_total{queue="events"}"#] == 10)
            #expect(samples[#"queue_consumed_total{queue="events"}"#] == 10)
            #expect(samples[#"queue_message_wait_seconds_count{queue="events"}"#] == 10)
            #expect(samples[#"queue_depth_messages{queue="events"}"#] == 0)
            #expect((samples["tally_redis_used_memory_bytes"] ?? 0) > 0)
            #expect(samples["tally_redis_maxmemory_bytes"] != nil)
            #expect(samples["tally_sampling_probability"] == 1)
            #expect(samples["tally_sampler_events_seen_total"] == 10)
            let problems = try await ExpositionCheckers.promtoolProblems(Array(text.utf8))
            #expect(problems.isEmpty, "promtool: \(problems)")
        }
        await redis.stop()
    }

    @Test func anEmbeddedNodeExportsTheEventsQueueWithWaitTimes() async throws {
        try await withTestNode { node, client in
            #expect(try await client.postEvents(EndToEndTests.events, contentType: "application/x-ndjson").status == .accepted)
            #expect(try await eventually { node.pipelineMetrics.queue.consumed.value == 10 })
            await node.monitorLoad()
            let samples = ExpositionSamples(try await client.execute(uri: "/metrics", method: .get).text)
            #expect(samples[#"queue_enqueued_total{queue="events"}"#] == 10)
            #expect(samples[#"queue_message_wait_seconds_count{queue="events"}"#] == 10)
            #expect(samples[#"queue_depth_messages{queue="events"}"#] == 0)
            #expect(samples[#"queue_oldest_message_age_seconds{queue="events"}"#] == 0)
            #expect(samples["db_pool_connections"] == nil)
        }
    }

    @Test func aLaggingLogMakesTheNodeSampleButKeepCriticalEvents() async throws {
        var configuration = TallyServerConfiguration()
        configuration.samplingMaxLag = 10
        let node = try TallyNodeComponents(configuration: configuration)
        try await node.log.prepare()
        let router = TallyRouter.build(node: node)
        try await Application(router: router).test(.router) { client in
            // No workers run: the lag only grows.
            let completions = (0..<100).map { _ in #"{"type":"completion","session_id":"s","latency_ms":5,"accepted":true}"# }
            #expect(try await client.postEvents(completions.joined(separator: "\n"), contentType: "application/x-ndjson").status == .accepted)
            await node.monitorLoad()  // lag 100 / 10: the probability drops
            let probability = try #require(node.sampler?.probability)
            #expect(probability < 0.2)
            #expect(node.pipelineMetrics.queue.depth.value == 100)
            #expect(node.pipelineMetrics.queue.oldestAge.value >= 0 && node.pipelineMetrics.queue.oldestAge.value < 60)
            let failures = (0..<200).map { _ in #"{"type":"tool_call","session_id":"s","tool":"grep","success":false}"# }
            #expect(try await client.postEvents((completions + failures).joined(separator: "\n"), contentType: "application/x-ndjson").status == .accepted)
            let length = try await node.log.figures().length
            let sampledOut = node.pipelineMetrics.sampledOut.value
            #expect(sampledOut > 0)
            #expect(Int64(length) + sampledOut == 400)
            let kept = try await node.log.shards[0].read(consumer: "check", from: .new, count: 1_000, block: nil)
                .map { try EventRecord(entryFields: $0.fields!) }
            #expect(kept.filter { $0.event.type == .toolCall }.count == 200)
            #expect(kept.filter { $0.event.type == .toolCall }.allSatisfy { $0.weight == 1 })
            #expect(kept.filter { $0.event.type == .completion && $0.weight > 1 }.allSatisfy { abs($0.weight - 1 / probability) < 1e-9 })
        }
    }
}
