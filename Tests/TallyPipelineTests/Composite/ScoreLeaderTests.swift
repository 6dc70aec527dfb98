import TallyMetrics
import TallyPipeline
import Testing

@Suite struct ScoreLeaderTests {
    @Test func theFormulaIsAWeightedMeanOfTheRatiosWithMissingComponentsLeftOut() {
        var window = WindowSnapshot()
        #expect(ScoreFormula.default.score(for: window) == nil)
        window.toolCalls = ["grep": OutcomeCounts(success: 3, failure: 1)]
        #expect(abs(ScoreFormula.default.score(for: window)! - 75) < 1e-9)
        window.completions = 4
        window.accepted = 1
        window.latency.add(0.5, weight: 4)  // p95 0.5 s ≤ 1 s target: latency component 1
        // (0.5 × 0.25 + 0.3 × 0.75 + 0.2 × 1) / 1.0 × 100 = 55
        #expect(abs(ScoreFormula.default.score(for: window)! - 55) < 1e-9)
        var formula = ScoreFormula()
        formula.acceptanceWeight = 1
        formula.toolSuccessWeight = 0
        formula.latencyWeight = 0
        #expect(abs(formula.score(for: window)! - 25) < 1e-9)
    }

    @Test(arguments: Backend.allCases)
    func onlyOneNodeComputesAndAnotherTakesOverWhenTheLeaderStops(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let now = unixNow()
            let events: [TelemetryEvent] = [
                .completion(id: "1", session: "s", at: now - 1, latencyMilliseconds: 100, accepted: true),
                .completion(id: "2", session: "s", at: now - 1, latencyMilliseconds: 100, accepted: false),
            ]
            try await store.apply(DeltaCalculator.delta(for: events.records, bucketSeconds: 10), now: now)
            let a = ScoreLeader(store: store, node: "a", period: .milliseconds(50), lockTTL: .seconds(60))
            let b = ScoreLeader(store: store, node: "b", period: .milliseconds(50), lockTTL: .seconds(60))
            let first = try #require(try await a.runOnce())
            #expect(try await b.runOnce() == nil)
            #expect(abs(first.value - 100 * (0.5 * 0.5 + 0.2 * 1) / 0.7) < 1e-9)

            // a's last renewal, then a dies without releasing: b takes over once the lock lapses, with a newer token.
            _ = try await store.acquireLeadership(node: "a", ttl: .milliseconds(200))
            let running = Task { await b.run() }
            try await waitUntil { (try await store.score()?.token ?? 0) > first.token }
            running.cancel()
            await running.value
            // A paused ex-leader's write with its old token is refused.
            let stale = CompositeScore(value: 1, computedAt: unixNow(), token: first.token)
            let accepted = try await store.storeScore(stale)
            #expect(!accepted)
            #expect(try await store.score()?.value == first.value)
        }
    }

    /// The first events are scored within about a second, not a whole period after the leader started.
    @Test(arguments: Backend.allCases)
    func theFirstScoreFollowsTheFirstEventsWithoutWaitingAPeriod(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let leader = ScoreLeader(store: store, node: "a", period: .seconds(3600), lockTTL: .seconds(7200))
            let running = Task { await leader.run() }
            try await Task.sleep(for: .milliseconds(200))  // a round on the empty store has run
            #expect(try await store.score() == nil)
            let now = unixNow()
            try await store.apply(DeltaCalculator.delta(for: [
                TelemetryEvent.completion(id: "1", session: "s", at: now, latencyMilliseconds: 100, accepted: true),
            ].records, bucketSeconds: 10), now: now)
            try await waitUntil(timeout: .seconds(30)) { try await store.score() != nil }
            running.cancel()
            await running.value
        }
    }
}
