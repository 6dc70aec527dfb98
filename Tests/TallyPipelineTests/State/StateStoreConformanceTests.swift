import Testing
import TallyPipeline
import TallyRedis
import TallyTesting

/// One suite, both stores: the same deltas must give the same answers.
@Suite struct StateStoreConformanceTests {
    static let now = 1_800_000_000.0

    func apply(_ events: [TelemetryEvent], to store: any StateStore, now: Double = StateStoreConformanceTests.now) async throws {
        try await store.apply(DeltaCalculator.delta(for: events.records, bucketSeconds: store.configuration.bucketSeconds), now: now)
    }

    /// A reader that keeps unchanged buckets (Redis) still sees every later write to any bucket of
    /// the window, the current one and older ones alike, and forgets buckets that left it.
    @Test(arguments: Backend.allCases)
    func repeatedWindowReadsSeeEveryWriteToEveryBucket(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let now = Self.now
            var expected = 0.0
            for round in 0..<6 {
                // A late event in an old bucket, one in the current bucket, and one more in the old bucket.
                for age in [200.0, 1, 200.5] {
                    try await apply([.completion(id: "\(round)-\(age)", session: "s", at: now - age, latencyMilliseconds: 100 * (age + 1), accepted: round % 2 == 0)],
                                    to: store)
                    expected += 1
                    let window = try await store.window(now: now)
                    #expect(window.completions == expected && window.latency.count == expected, "round \(round), age \(age)")
                }
            }
            // Later, the old bucket has left the window; the current one is still in it.
            #expect(try await store.window(now: now + 101).completions == 12)
            #expect(try await store.window(now: now + 400).completions == 0)
            #expect(try await store.window(now: now).completions == expected)
        }
    }

    @Test(arguments: Backend.allCases)
    func theWindowMergesBucketsAndDropsEventsOlderThanTheWindow(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let now = Self.now
            try await apply([
                .completion(id: "1", session: "s", at: now - 5, latencyMilliseconds: 100, accepted: true),
                .completion(id: "2", session: "s", at: now - 125, latencyMilliseconds: 200, accepted: false),
                .completion(id: "3", session: "s", at: now - 250, latencyMilliseconds: 0, accepted: true),
                .completion(id: "4", session: "s", at: now - 400, latencyMilliseconds: 900, accepted: true),
            ], to: store)
            let window = try await store.window(now: now)
            #expect(window.completions == 3)
            #expect(window.accepted == 2)
            #expect(window.latency.count == 3)
            #expect(abs(window.latency.sum - 0.3) < 1e-12)
            let median = try #require(window.latency.quantile(0.5))
            #expect(abs(median - 0.1) / 0.1 < 0.01)
            #expect(try await store.window(now: now + 300).completions == 0)
        }
    }

    /// The window at `now` is the bucket holding `now` plus W / 10 whole buckets before it: every
    /// event of the last W seconds is in, and an event is out once it is W + 10 s old.
    @Test(arguments: Backend.allCases)
    func theWindowHoldsEveryEventOfTheLastWSecondsAndNothingABucketOlder(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let boundary = Self.now  // a bucket boundary
            let late = boundary + 9.5  // late in the current bucket
            try await apply([
                .completion(id: "w", session: "s", at: late - 300, latencyMilliseconds: 100, accepted: true),  // exactly W old
                .toolCall(id: "t", session: "s", at: late - 300, tool: "grep", success: true),
                .completion(id: "b", session: "s", at: boundary - 300, latencyMilliseconds: 200, accepted: false),  // 309.5 s old, the oldest bucket
                .completion(id: "o", session: "s", at: boundary - 300.001, latencyMilliseconds: 900, accepted: true),  // one bucket older
                .completion(id: "n", session: "s", at: late, latencyMilliseconds: 300, accepted: true),  // the current, partial bucket
            ], to: store, now: late)
            let window = try await store.window(now: late)
            #expect(window.completions == 3)
            #expect(window.accepted == 2)
            #expect(abs(window.latency.sum - 0.6) < 1e-12)
            #expect(window.toolCalls == ["grep": OutcomeCounts(success: 1)])
            // Up to the next boundary the oldest bucket stays; at it, it leaves (its events are then W + 10 s and W + 0.5 s old).
            #expect(try await store.window(now: boundary + 9.999).completions == 3)
            let next = try await store.window(now: boundary + 10)
            #expect(next.completions == 1 && next.toolCalls.isEmpty)

            // At a bucket boundary the window is exactly W: an event W old is in, one a millisecond older is out.
            try await apply([
                .toolCall(id: "x", session: "s", at: boundary - 300, tool: "edit", success: false),
                .toolCall(id: "y", session: "s", at: boundary - 300.001, tool: "edit", success: true),
            ], to: store, now: boundary)
            #expect(try await store.window(now: boundary).toolCalls == ["grep": OutcomeCounts(success: 1), "edit": OutcomeCounts(failure: 1)])
        }
    }

    /// Writers keep a bucket at least until it leaves the window (at `start + W + 10 s`): in memory a
    /// later write does not drop it early, on Redis its key expires one bucket after that (for readers
    /// whose clock is a little behind Redis's).
    @Test(arguments: Backend.allCases)
    func aBucketIsKeptUntilItLeavesTheWindow(backend: Backend) async throws {
        try await backend.with { _, store, harness in
            let configuration = store.configuration
            let start = Int(Self.now)
            let leaves = Double(configuration.bucketLeavesWindow(start))
            #expect(leaves == Self.now + 310)
            try await apply([.completion(id: "1", session: "s", at: Self.now + 5, latencyMilliseconds: 100, accepted: true)], to: store, now: Self.now + 5)
            // A write just before the bucket leaves the window (the memory store drops older buckets when it writes).
            try await apply([.completion(id: "2", session: "s", at: leaves - 0.5, latencyMilliseconds: 100, accepted: true)], to: store, now: leaves - 0.5)
            #expect(try await store.window(now: leaves - 0.5).completions == 2)
            #expect(try await store.window(now: leaves).completions == 1)
            if let pool = harness.pool {
                let expiresAt = try await pool.send(RedisCommand("EXPIRETIME", .string(RedisKeys().bucket(start)))).int
                #expect(expiresAt == Int(leaves) + configuration.bucketSeconds)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func sampledEventsCountWithTheirWeight(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let now = Self.now
            let records = [
                EventRecord(event: .completion(id: "1", session: "s", at: now - 1, latencyMilliseconds: 100, accepted: true), weight: 4),
                EventRecord(event: .completion(id: "2", session: "s", at: now - 1, latencyMilliseconds: 300, accepted: false), weight: 1),
                EventRecord(event: .toolCall(id: "3", session: "s", at: now - 1, tool: "grep", success: true), weight: 2.5),
            ]
            try await store.apply(DeltaCalculator.delta(for: records, bucketSeconds: 10), now: now)
            let window = try await store.window(now: now)
            #expect(window.completions == 5 && window.accepted == 4)
            #expect(window.latency.count == 5)
            #expect(abs(window.latency.sum - 0.7) < 1e-12)
            #expect(abs(window.latency.quantile(0.5)! - 0.1) / 0.1 < 0.01)
            #expect(try await store.toolCallTotals() == ["grep": OutcomeCounts(success: 2.5)])
            #expect(try await store.activeSessions(now: now).first?.toolCalls == 2.5)
        }
    }

    @Test(arguments: Backend.allCases)
    func toolNamesPastTheCapCountUnderTheOverflowValue(backend: Backend) async throws {
        var configuration = StateConfiguration()
        configuration.maxTools = 3
        configuration.maxErrorCodes = 2
        try await backend.with(configuration: configuration) { _, store, _ in
            let now = Self.now
            try await apply((0..<5).map { .toolCall(id: "t\($0)", session: "s", at: now - 1, tool: "tool\($0)", success: $0 % 2 == 0) }, to: store)
            try await apply([.toolCall(id: "x", session: "s", at: now - 1, tool: "tool1", success: true),
                             .toolCall(id: "y", session: "s", at: now - 1, tool: "tool9", success: true)], to: store)
            try await apply(["a", "b", "c", "a"].enumerated().map { .clientError(id: "e\($0.offset)", session: "s", at: now, code: $0.element) }, to: store)
            let totals = try await store.toolCallTotals()
            #expect(Set(totals.keys) == ["tool0", "tool1", "tool2", StateConfiguration.overflowValue])
            #expect(totals["tool1"] == OutcomeCounts(success: 1, failure: 1))
            #expect(totals[StateConfiguration.overflowValue] == OutcomeCounts(success: 2, failure: 1))
            let window = try await store.window(now: now)
            #expect(window.toolCalls == totals)
            #expect(try await store.errorCodeTotals() == ["a": 2, "b": 1, StateConfiguration.overflowValue: 1])
        }
    }

    @Test(arguments: Backend.allCases)
    func sessionsAreActiveUntilTheyEndOrGoQuiet(backend: Backend) async throws {
        var configuration = StateConfiguration()
        configuration.sessionTimeoutSeconds = 600
        try await backend.with(configuration: configuration) { _, store, _ in
            let now = Self.now
            try await apply([
                .sessionStart(id: "1", session: "open", at: now - 100),
                .sessionStart(id: "2", session: "ended", at: now - 100),
                .sessionEnd(id: "3", session: "ended", at: now - 50),
                .sessionStart(id: "4", session: "quiet", at: now - 700),
            ], to: store)
            // An event after the end does not reopen the session.
            try await apply([.toolCall(id: "5", session: "ended", at: now - 10, tool: "t", success: true)], to: store)
            #expect(try await store.activeSessions(now: now).map(\.id) == ["open"])
            #expect(try await store.activeSessions(now: now + 501).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func aSessionThatReturnsAfterGoingQuietStartsAfresh(backend: Backend) async throws {
        var configuration = StateConfiguration()
        configuration.sessionTimeoutSeconds = 600
        try await backend.with(configuration: configuration) { _, store, _ in
            let now = Self.now
            try await apply([
                .sessionStart(id: "1", session: "back", at: now - 2000),
                .toolCall(id: "2", session: "back", at: now - 1990, tool: "grep", success: true),
                .sessionStart(id: "3", session: "done", at: now - 2000),
                .sessionEnd(id: "4", session: "done", at: now - 1990),
            ], to: store, now: now - 1900)
            // 1,900 s later, past the 600 s timeout, both ids come back: new sessions, nothing carried over.
            try await apply([
                .toolCall(id: "5", session: "back", at: now - 60, tool: "edit", success: true),
                .toolCall(id: "6", session: "done", at: now - 30, tool: "edit", success: true),
            ], to: store)
            let sessions = try await store.activeSessions(now: now)
            #expect(sessions.map(\.id) == ["back", "done"])
            #expect(sessions.map(\.firstSeen) == [now - 60, now - 30])
            #expect(sessions.map(\.toolCalls) == [1, 1])
        }
    }

    /// The seeds' bug #4: tools per minute was always 0 because tool calls never reached the session.
    @Test(arguments: Backend.allCases)
    func toolsPerMinuteIsToolCallsOverSessionMinutes(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let start = Self.now - 300
            // s1: 6 tool calls over 3 minutes → 2.0 per minute. s2: 3 calls over 30 s → counts as 1 minute → 3.0.
            var events: [TelemetryEvent] = [.sessionStart(id: "a", session: "s1", at: start)]
            events += (1...6).map { .toolCall(id: "a\($0)", session: "s1", at: start + Double($0) * 30, tool: "grep", success: true) }
            events += [.sessionStart(id: "b", session: "s2", at: start)]
            events += (1...3).map { .toolCall(id: "b\($0)", session: "s2", at: start + Double($0) * 10, tool: "edit", success: false) }
            // Split across two deltas, as two workers would.
            try await apply(Array(events.prefix(4)), to: store)
            try await apply(Array(events.dropFirst(4)), to: store)
            let sessions = try await store.activeSessions(now: Self.now)
            #expect(sessions.map(\.id) == ["s1", "s2"])
            #expect(sessions.map(\.toolCalls) == [6, 3])
            #expect(sessions.map { $0.toolsPerMinute(minimumMinutes: 1) } == [2.0, 3.0])
            #expect(sessions[0].durationSeconds == 180)
        }
    }

    @Test(arguments: Backend.allCases)
    func aScoreWithAnOlderFencingTokenIsRefused(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let empty = try await store.score()
            #expect(empty == nil)
            let stored = try await store.storeScore(CompositeScore(value: 70, computedAt: 10, token: 2))
            #expect(stored)
            let stale = try await store.storeScore(CompositeScore(value: 10, computedAt: 20, token: 1))
            #expect(!stale)
            let kept = try await store.score()
            #expect(kept == CompositeScore(value: 70, computedAt: 10, token: 2))
            let newer = try await store.storeScore(CompositeScore(value: 80, computedAt: 30, token: 3))
            #expect(newer)
            let latest = try await store.score()
            #expect(latest?.value == 80)
        }
    }

    /// The leader writes "no data" (no value) with its time when the window is empty.
    @Test(arguments: Backend.allCases)
    func aNoDataScoreKeepsItsTimeAndToken(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let scored = CompositeScore(value: 64.5, computedAt: 10, token: 1)
            let noData = CompositeScore(value: nil, computedAt: 40.25, token: 1)
            let zero = CompositeScore(value: 0, computedAt: 70, token: 2)
            let storedScored = try await store.storeScore(scored)
            let storedNoData = try await store.storeScore(noData)
            #expect(storedScored && storedNoData)
            let readNoData = try await store.score()
            #expect(readNoData == noData)
            let storedZero = try await store.storeScore(zero)
            let readZero = try await store.score()
            #expect(storedZero && readZero == zero)
        }
    }

    @Test(arguments: Backend.allCases)
    func theLeaderLockIsExclusiveRenewableAndIssuesNewTokens(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let first = try #require(try await store.acquireLeadership(node: "a", ttl: .seconds(30)))
            #expect(try await store.acquireLeadership(node: "b", ttl: .seconds(30)) == nil)
            #expect(try await store.acquireLeadership(node: "a", ttl: .seconds(30)) == first)
            try await store.releaseLeadership(node: "b")
            #expect(try await store.acquireLeadership(node: "b", ttl: .seconds(30)) == nil)
            try await store.releaseLeadership(node: "a")
            let second = try #require(try await store.acquireLeadership(node: "b", ttl: .milliseconds(100)))
            #expect(second > first)
            try await waitUntil(timeout: .seconds(30)) { try await store.acquireLeadership(node: "c", ttl: .seconds(30)) != nil }
            #expect(try await store.acquireLeadership(node: "c", ttl: .seconds(30))! > second)
        }
    }
}
