import TallyKit
import TallyMetrics
import TallyRedis
import TallyTesting
import Testing

/// An application's Redis, read through its own client's `INFO`: a real server's figures, then its absence.
@Suite struct RedisInfoMetricsTests {
    @Test func aRealServersFiguresAndThenItsAbsence() async throws {
        let server = try await RedisServer.start(extraArguments: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"])
        // A generous lease: the suite runs beside dozens of servers on two cores.
        let client = RedisConnectionPool(configuration: try RedisPoolConfiguration(connection: server.configuration(commandTimeout: .seconds(5)), maximumConnections: 2,
                                                                               leaseTimeout: RedisServer.leaseTimeout))
        let registry = MetricsRegistry()
        let metrics = try RedisInfoMetrics(registry: registry)
        // Before any read: down, and no figures.
        var samples = ExpositionSamples(registry.renderString())
        #expect(samples["redis_up"] == 0)
        #expect(samples["redis_used_memory_bytes"]?.isNaN == true)

        _ = try await client.set("k", to: .string("v"))
        _ = try await client.get("k")
        _ = try await client.get("missing")
        let info = { @Sendable () async throws -> String in
            try await client.send(RedisCommand("INFO", arguments: RedisInfoMetrics.sections.map { .string($0) })).string ?? ""
        }
        metrics.refresh(info: try await info())
        samples = ExpositionSamples(registry.renderString())
        #expect(samples["redis_up"] == 1)
        #expect((samples["redis_maxmemory_bytes"] ?? 0) == 67_108_864, "\(samples.lines.filter { $0.contains("maxmemory") })")
        #expect((samples["redis_used_memory_bytes"] ?? 0) > 100_000)
        #expect((samples["redis_connected_clients"] ?? 0) >= 1)
        #expect(samples["redis_blocked_clients"] == 0)
        #expect((samples["redis_keyspace_hits_total"] ?? 0) >= 1)
        #expect((samples["redis_keyspace_misses_total"] ?? 0) >= 1)
        #expect((samples["redis_commands_processed_total"] ?? 0) >= 3)
        #expect(samples["redis_evicted_keys_total"] == 0)

        // The polling loop marks the server down once it is gone; counters keep their last values.
        await server.stop()
        let loop = Task { await metrics.run(every: .milliseconds(50), info: info) }
        let down = try await poll(timeout: .seconds(10)) { ExpositionSamples(registry.renderString())["redis_up"] == 0 }
        loop.cancel()
        await loop.value
        #expect(down)
        samples = ExpositionSamples(registry.renderString())
        #expect(samples["redis_used_memory_bytes"]?.isNaN == true)
        #expect((samples["redis_commands_processed_total"] ?? 0) >= 3)
        await client.close()
        let problems = try await ExpositionCheckers.promtoolProblems(registry.render(format: .prometheusText))
        #expect(problems.isEmpty, "promtool: \(problems)")
    }

    @Test func fieldsAreReadFromInfoText() {
        let fields = RedisInfoMetrics.fields(KitExposition.sampleRedisInfo)
        #expect(fields["used_memory"] == "1048576")
        #expect(fields["blocked_clients"] == "1")
        #expect(fields["# Memory"] == nil)
        #expect(fields.count == 8)
        // The server's CRLF, blanks around a value, a line without a colon, a value holding colons.
        let odd = RedisInfoMetrics.fields("# Server\r\nredis_version:7.0.15\r\n role : master \r\nnot a field\r\nexecutable:/usr/bin/redis:server\r\n\r\n")
        #expect(odd == ["redis_version": "7.0.15", " role ": "master", "executable": "/usr/bin/redis:server"])
    }
}
