import Foundation
import Testing
import TallyMetrics
import TallyPipeline
import TallyRedis

/// The per-session figures are the leader's: it scans every live session once per period and stores
/// the result; readers read one small hash, whatever the number of sessions.
@Suite struct SessionFiguresTests {
    static let now = 1_800_000_000.0

    /// 200 sessions whose last events share a handful of times (ties cross every chunk boundary),
    /// some ended, some quiet past the timeout: the exact set of live ones, computed here.
    static func sessionEvents(now: Double) -> (events: [TelemetryEvent], live: [String: (first: Double, last: Double, tools: Double)]) {
        var events: [TelemetryEvent] = []
        var live: [String: (first: Double, last: Double, tools: Double)] = [:]
        for i in 0..<200 {
            let session = "s\(i)"
            // Four shared last-seen times; every tenth session went quiet past the timeout.
            let last = i % 10 == 9 ? now - 4000 : now - Double(i % 4)
            let first = last - 600 - Double(i % 7) * 10
            let tools = Double(i % 5)
            events.append(.sessionStart(id: "\(i)a", session: session, at: first))
            for t in 0..<Int(tools) { events.append(.toolCall(id: "\(i)t\(t)", session: session, at: last, tool: "grep", success: true)) }
            events.append(.completion(id: "\(i)c", session: session, at: last, latencyMilliseconds: 10, accepted: true))
            if i % 10 == 3 { events.append(.sessionEnd(id: "\(i)e", session: session, at: last)) }
            if i % 10 != 9 && i % 10 != 3 { live[session] = (min(first, last), last, tools) }
        }
        return (events, live)
    }

    static func apply(_ events: [TelemetryEvent], to store: any StateStore, now: Double) async throws {
        try await store.apply(DeltaCalculator.delta(for: events.records, bucketSeconds: store.configuration.bucketSeconds), now: now)
    }

    @Test(arguments: Backend.allCases)
    func theScanVisitsEveryLiveSessionExactlyOnceAcrossChunksAndTies(backend: Backend) async throws {
        try await backend.with { _, store, harness in
            let (events, live) = Self.sessionEvents(now: Self.now)
            try await Self.apply(events, to: store, now: Self.now)
            var stores: [any StateStore] = [store]
            if let pool = harness.pool {
                for chunk in [1, 7, 50] {  // 50 sessions share each last-seen time: chunks end inside ties
                    var small = RedisStateStore(client: pool, configuration: store.configuration)
                    small.sessionScanChunk = chunk
                    stores.append(small)
                }
            }
            for scanned in stores {
                var seen: [String: SessionSnapshot] = [:]
                var visits = 0
                try await scanned.scanActiveSessions(now: Self.now) { chunk in
                    visits += chunk.count
                    for session in chunk { seen[session.id] = session }
                }
                #expect(visits == live.count)
                #expect(Set(seen.keys) == Set(live.keys))
                for (id, expected) in live {
                    let session = try #require(seen[id])
                    #expect(session.firstSeen == expected.first && session.lastSeen == expected.last && session.toolCalls == expected.tools, "\(id)")
                }
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func theLeaderStoresTheFiguresAndEveryReaderReadsThem(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let (events, _) = Self.sessionEvents(now: Self.now)
            try await Self.apply(events, to: store, now: Self.now)
            let reader = DerivedMetricsReader(store: store, log: log)

            // Before any leader ran: no figures, and the reader says so rather than inventing zeros.
            let before = try await reader.read(now: Self.now)
            #expect(before.sessionFiguresAgeSeconds == nil)
            #expect(before.meanSessionToolCalls == nil)

            let leader = ScoreLeader(store: store, node: "a", now: { Self.now })
            _ = try await leader.runOnce()
            let exact = SessionFigures(try await store.activeSessions(now: Self.now),
                                       minimumSessionMinutes: store.configuration.minimumSessionMinutes, computedAt: Self.now)
            #expect(exact.active == 160)
            let stored = try #require(try await store.sessionFigures())
            #expect(stored.active == exact.active && stored.computedAt == Self.now)
            #expect(stored.toolsPerMinute.count == exact.toolsPerMinute.count)
            // The same sessions in another order: the same bins, sums equal but for rounding.
            #expect(abs(stored.durationSum - exact.durationSum) < 1e-6 && abs(stored.toolCallsSum - exact.toolCallsSum) < 1e-9)
            let after = try await reader.read(now: Self.now + 2)
            #expect(after.activeSessions == 160)
            #expect(after.sessionFiguresAgeSeconds == 2)
            #expect(abs(try #require(after.meanSessionToolCalls) - exact.toolCallsSum / 160) < 1e-9)
            #expect(abs(try #require(after.meanSessionDurationSeconds) - exact.durationSum / 160) < 1e-6)
            let quantiles = DerivedMetrics.Quantiles(exact.toolsPerMinute)
            #expect(after.sessionToolsPerMinute.p50 == quantiles.p50 && after.sessionToolsPerMinute.p99 == quantiles.p99)
            #expect(after.sessionToolsPerMinute.count == 160)

            // A paused ex-leader's figures (an older token) are refused whole.
            var stale = SessionFigures(computedAt: Self.now + 5)
            stale.active = 1
            let token = try #require(try await store.acquireLeadership(node: "a", ttl: .seconds(60)))
            #expect(try await !store.storeLeaderFigures(score: nil, sessions: stale, token: token - 1))
            #expect(try await store.sessionFigures() == stored)
        }
    }

    /// One clock: a step given no time runs at the store's (Redis's `TIME`, the memory store's
    /// clock), so a bucket older than the window there is dropped and a current one kept, whatever
    /// the clock of the process that commits.
    @Test(arguments: Backend.allCases)
    func aStepGivenNoTimeRunsOnTheStoresClock(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let now = try await store.now()
            #expect(abs(now - Date().timeIntervalSince1970) < 60, "the store's clock is the real time here")
            let events: [TelemetryEvent] = [
                .completion(id: "in", session: "s", at: now - 5, latencyMilliseconds: 10, accepted: true),
                .completion(id: "out", session: "s", at: now - 400, latencyMilliseconds: 10, accepted: true),
            ]
            try await log.append(events.records)
            let read = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let commit = BatchCommit(acknowledged: read.map(\.id), delta: DeltaCalculator.delta(for: events.records, bucketSeconds: 10), deadLetters: [])
            #expect(try await log.committer.commit(commit, consumer: "a") == .committed)
            let window = try await store.window()
            #expect(window.completions == 1)
            // The bucket 400 s back was never written: nothing of it is kept at all.
            #expect(try await store.window(now: now - 395).completions == 0)
        }
    }

    /// A scan step whose read fails names the step and the command that failed: here the `HMGET`
    /// of the sessions' tool calls (its hash replaced by a string), not the `ZMSCORE` beside it.
    @Test func aFailedScanReadNamesTheCommandThatFailed() async throws {
        try await Backend.redis.with { _, store, harness in
            try await Self.apply(Self.sessionEvents(now: Self.now).events, to: store, now: Self.now)
            let pool = try #require(harness.pool)
            _ = try await pool.send(RedisCommand("SET", .string(RedisKeys().sessionToolCalls), "not a hash"))
            let error = await #expect(throws: PipelineReplyError.self) {
                try await store.scanActiveSessions(now: Self.now) { _ in }
            }
            #expect(error?.step == .sessionScan && error?.command == "HMGET", "\(String(describing: error))")
            #expect(error?.reply.hasPrefix("-WRONGTYPE") == true, "\(String(describing: error))")
        }
    }
}
