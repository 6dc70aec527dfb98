import Foundation
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

extension Backend {
    /// A fresh `count`-shard log and merged store: on Redis, every shard's keys (under their own
    /// tags) on one throwaway server; in memory, one log and store per shard.
    func withShards<T>(
        _ count: Int, configuration: StateConfiguration = .default, appendPolicy: AppendPolicy = .default,
        _ body: (ShardedEventLog, any StateStore, Harness) async throws -> T
    ) async throws -> T {
        let layout = try ShardLayout(count: count)
        switch self {
        case .memory:
            let backend = ShardedBackend.memory(layout: layout, configuration: configuration, appendPolicy: appendPolicy)
            try await backend.log.prepare()
            return try await body(backend.log, backend.store, Harness(pool: nil, server: nil))
        case .redis:
            return try await withRedisServer { server in
                let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(
                    connection: server.configuration(), maximumConnections: 4, maximumBlockingConnections: 3 * count + 2, leaseTimeout: RedisServer.leaseTimeout))
                let backend = ShardedBackend.redis(client: pool, layout: layout, configuration: configuration, appendPolicy: appendPolicy)
                do {
                    try await backend.log.prepare()
                    let result = try await body(backend.log, backend.store, Harness(pool: pool, server: server))
                    await pool.close()
                    return result
                } catch {
                    await pool.close()
                    throw error
                }
            }
        }
    }
}

/// The pipeline split into shards: events land in their session's shard, a batch retried across a
/// failing shard is stored once, and the merged figures equal an exact offline computation.
@Suite struct ShardedPipelineTests {
    /// Runs `workers` workers per shard until every shard's log is drained, then stops them.
    static func drain(_ log: ShardedEventLog, workers: Int) async throws {
        let pool = WorkerPool(shards: log.shards.map { WorkerPool.Shard(log: $0, committer: $0.committer) }, concurrency: workers,
                              configuration: WorkerPoolTests.fastConfiguration(), consumerPrefix: "sharded", executor: testWorkerExecutor)
        let running = Task { await pool.run() }
        // A deadline, not a speed: 100,000 events on Redis can take over 90 s while the whole suite shares two
        // cores. At most 180 s, so that events of the last 100 s are still in the 300 s window when read.
        try await waitUntil(timeout: .seconds(180)) {
            let figures = try await log.figures()
            return figures.pending == 0 && figures.lag == 0
        }
        pool.stop()
        await running.value
    }

    @Test(arguments: Backend.allCases)
    func threeShardsComputeExactlyWhatTheEventsSay(backend: Backend) async throws {
        try await backend.withShards(3) { log, store, _ in
            var generator = SessionGenerator(seed: 7, now: unixNow(), span: 100)
            let events = generator.events(count: 20_000)
            for start in stride(from: 0, to: events.count, by: 1000) {
                try await log.append(Array(events[start..<min(start + 1000, events.count)]).records)
            }
            // Every shard holds only its own sessions' events, and each got a fair part.
            for (index, shard) in log.shards.enumerated() {
                let entries = try await shard.read(consumer: "inspector", from: .new, count: 100_000, block: nil)
                #expect(entries.count > 4_000, "shard \(index) holds \(entries.count) of 20,000")
                let sessions = Set(entries.compactMap { entry in
                    entry.fields?.first { $0.name == "event" }.flatMap { try? EventDecoder().decodeBatch(Array($0.value.utf8), format: .json).first?.sessionID }
                })
                #expect(sessions.allSatisfy { log.layout.shard(ofSession: $0) == index })
            }
            try await Self.drain(log, workers: 2)

            let exact = ExactMetrics(events)
            _ = try await ScoreLeader(store: store, node: "leader").runOnce()
            let derived = try await DerivedMetricsReader(store: store, log: log).read(now: unixNow())
            #expect(derived.completions == exact.completions)
            #expect(derived.acceptanceRatio == exact.accepted / exact.completions)
            #expect(derived.toolCalls == exact.tools)
            #expect(derived.clientErrors == exact.codes)
            #expect(derived.activeSessions == exact.activeSessions.count)
            #expect(try await store.activeSessions(now: unixNow()) == exact.activeSessions)
            for (q, value) in [(0.5, derived.completionLatencySeconds.p50), (0.99, derived.completionLatencySeconds.p99)] {
                let truth = ExactMetrics.quantile(exact.latencies, q)
                #expect(abs(try #require(value) - truth) / truth <= 0.01, "p\(q * 100): \(String(describing: value)) vs \(truth)")
            }
            let perMinute = exact.activeSessions.map { $0.toolsPerMinute() }.sorted()
            let p90 = try #require(derived.sessionToolsPerMinute.p90)
            #expect(abs(p90 - ExactMetrics.quantile(perMinute, 0.9)) / ExactMetrics.quantile(perMinute, 0.9) <= 0.01)
            #expect(try await store.score() != nil, "the leader's figures live in the global store")
        }
    }

    @Test(arguments: Backend.allCases)
    func aBatchRetriedWithItsKeyIsStoredOnceOverEveryShard(backend: Backend) async throws {
        try await backend.withShards(3) { log, _, _ in
            let now = unixNow()
            let records = (0..<60).map { TelemetryEvent.completion(id: "c\($0)", session: "s\($0 % 12)", at: now - 1, latencyMilliseconds: 5, accepted: true) }.records
            let claim = IdempotencyClaim(key: "batch-1", fingerprint: "f1", acceptedCount: 60)
            let first = try await log.append(AppendRequest(records: records, idempotency: claim))
            guard case .appended(let ids, let duplicates) = first else { Issue.record("\(first)"); return }
            #expect(ids.count == 60 && duplicates.isEmpty)
            #expect(try await log.append(AppendRequest(records: records, idempotency: claim)) == .replayed(acceptedCount: 60))
            // The same key with another body: refused at the key's home shard, nothing stored anywhere.
            let other = IdempotencyClaim(key: "batch-1", fingerprint: "f2", acceptedCount: 3)
            #expect(try await log.append(AppendRequest(records: Array(records.prefix(3)), idempotency: other)) == .conflict(acceptedCount: 60))
            #expect(try await log.figures().length == 60)
            let perShard = try await log.shardFigures().map(\.length)
            #expect(perShard.filter { $0 > 0 }.count == 3, "\(perShard)")
        }
    }

    @Test func aShardThatFailsMidBatchLeavesARetryToAppendOnlyWhatIsMissing() async throws {
        try await Backend.redis.withShards(3) { log, _, harness in
            let pool = try #require(harness.pool)
            let now = unixNow()
            let records = (0..<90).map { TelemetryEvent.toolCall(id: "t\($0)", session: "s\($0 % 30)", at: now - 1, tool: "grep", success: true) }.records
            let claim = IdempotencyClaim(key: "retry-me", fingerprint: "body", acceptedCount: 90)
            let home = log.layout.shard(ofIdempotencyKey: claim.key)
            let broken = (home + 1) % 3
            // A fault on one shard: its stream key holds a string, so its append fails before writing anything.
            let stream = log.layout.shardKeys[broken].events
            _ = try await pool.send(RedisCommand("DEL", .string(stream)))
            _ = try await pool.set(stream, to: .string("not a stream"))
            let failure = await #expect(throws: IncompleteShardedAppend.self) { try await log.append(AppendRequest(records: records, idempotency: claim)) }
            #expect(failure?.storedParts == 2 && failure?.failedParts == 1, "the failing part is reported as such: \(String(describing: failure))")
            let expected = (0..<3).map { shard in records.filter { log.layout.shard(ofSession: $0.event.sessionID) == shard }.count }
            #expect(expected.allSatisfy { $0 > 0 }, "\(expected)")
            // The other shards stored their parts; a reused key with another body is refused, still storing nothing.
            for shard in 0..<3 where shard != broken {
                #expect(try await log.shards[shard].figures().length == expected[shard])
            }
            let other = IdempotencyClaim(key: "retry-me", fingerprint: "another body", acceptedCount: 1)
            #expect(try await log.append(AppendRequest(records: Array(records.prefix(1)), idempotency: other)) == .conflict(acceptedCount: 90))

            // The fault is fixed; the client retries with the same key: only the missing part is appended.
            _ = try await pool.send(RedisCommand("DEL", .string(stream)))
            try await log.shards[broken].prepare()
            let retried = try await log.append(AppendRequest(records: records, idempotency: claim))
            guard case .appended(let ids, _) = retried else { Issue.record("\(retried)"); return }
            #expect(ids.count == expected[broken])
            #expect(try await log.shardFigures().map(\.length) == expected)
            #expect(try await log.append(AppendRequest(records: records, idempotency: claim)) == .replayed(acceptedCount: 90))
        }
    }

    @Test(arguments: Backend.allCases)
    func clientIDsAreDeduplicatedInTheirSessionsShard(backend: Backend) async throws {
        try await backend.withShards(3, appendPolicy: AppendPolicy(dedupeWindow: .seconds(60))) { log, _, _ in
            let now = unixNow()
            let records = (0..<30).map { TelemetryEvent.clientError(id: "e\($0)", session: "s\($0)", at: now - 1, code: "E") }.records
            let request = AppendRequest(records: records, deduplicationIDs: records.map { $0.event.id })
            guard case .appended(let ids, let none) = try await log.append(request) else { Issue.record("not appended"); return }
            #expect(ids.count == 30 && none.isEmpty)
            // Half resent with new ones: the resent are left out, at their positions in the batch.
            let mixed = Array(records.prefix(15)) + (30..<45).map { TelemetryEvent.clientError(id: "e\($0)", session: "s\($0)", at: now - 1, code: "E") }.records
            let outcome = try await log.append(AppendRequest(records: mixed, deduplicationIDs: mixed.map { $0.event.id }))
            guard case .appended(let fresh, let left) = outcome else { Issue.record("\(outcome)"); return }
            #expect(fresh.count == 15 && left == Array(0..<15))
            #expect(try await log.figures().length == 45)
        }
    }

    @Test(arguments: Backend.allCases)
    func theToolCapAppliesAfterMergingTheShards(backend: Backend) async throws {
        var configuration = StateConfiguration()
        configuration.maxTools = 2
        try await backend.withShards(3, configuration: configuration) { log, store, _ in
            let now = unixNow()
            // Two tools in each shard's sessions: each shard admits its own two, six in all.
            let layout = log.layout
            var sessions: [Int: String] = [:]
            var i = 0
            while sessions.count < 3 { let id = "cap-\(i)"; sessions[layout.shard(ofSession: id)] = sessions[layout.shard(ofSession: id)] ?? id; i += 1 }
            var events: [TelemetryEvent] = []
            for shard in 0..<3 {
                for (tool, calls) in [("tool-\(shard)a", 10 + shard), ("tool-\(shard)b", 1)] {
                    for n in 0..<calls { events.append(.toolCall(id: "\(tool)-\(n)", session: sessions[shard]!, at: now - 1, tool: tool, success: true)) }
                }
            }
            try await log.append(events.records)
            try await Self.drain(log, workers: 1)
            let totals = try await store.toolCallTotals()
            // The two busiest tools are kept; the other four add up under the overflow value.
            #expect(Set(totals.keys) == ["tool-2a", "tool-1a", StateConfiguration.overflowValue])
            #expect(totals[StateConfiguration.overflowValue]?.success == 13.0, "tool-0a (10 calls) and the three single calls")
            #expect(totals.values.reduce(0) { $0 + $1.total } == Double(events.count))
            let window = try await store.window(now: unixNow())
            #expect(Set(window.toolCalls.keys) == Set(totals.keys))
        }
    }

    @Test(arguments: Backend.allCases)
    func deadLettersAreListedAcrossShardsByQualifiedIDAndReplayedIntoTheirShard(backend: Backend) async throws {
        try await backend.withShards(3) { log, _, _ in
            // Two poison entries in each shard, dead-lettered by that shard's committer.
            for (index, shard) in log.shards.enumerated() {
                let ids = try await shard.append(entries: (0..<2).map { [(name: "bad", value: "\(index)-\($0)")] })
                _ = try await shard.read(consumer: "a", from: .new, count: 10, block: nil)
                let letters = ids.map { DeadLetterRequest(id: $0, error: "'event' missing", deliveries: 3) }
                #expect(try await shard.committer.commit(BatchCommit(acknowledged: [], delta: StateDelta(), deadLetters: letters), consumer: "a", now: 1) == .committed)
            }
            #expect(try await log.deadLetterCount() == 6)
            #expect(try await log.figures().deadLetters == 6)
            let listed = try await log.deadLetters(count: 10)
            #expect(listed.count == 6)
            #expect(Set(listed.map { $0.id.split(separator: "/").first.map(String.init) ?? "" }) == ["0", "1", "2"])
            for letter in listed {
                let (shard, _) = try log.unqualified(letter.id)
                #expect(letter.fields.first?.value.hasPrefix("\(shard)-") == true, "\(letter.id) came from shard \(shard)")
            }
            // One replayed by its qualified id goes back to its own shard's stream.
            let chosen = try #require(listed.first { $0.id.hasPrefix("2/") })
            #expect(try await log.replayDeadLetters(ids: [chosen.id]) == 1)
            #expect(try await log.shards[2].figures().length == 3)
            #expect(try await log.shards[2].deadLetterCount() == 1)
            // An id without its shard is refused, naming the form.
            #expect(throws: InvalidSetting.self) { try log.unqualified("1-0") }
            await #expect(throws: InvalidSetting.self) { try await log.replayDeadLetters(ids: ["1-0"]) }
            #expect(try await log.purgeDeadLetters() == 5)
            #expect(try await log.deadLetterCount() == 0)
        }
    }
}
