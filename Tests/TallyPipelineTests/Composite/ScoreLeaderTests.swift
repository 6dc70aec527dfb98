import Synchronization
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

/// A clock the test moves by hand (unix seconds).
final class ManualClock: Sendable {
    private let value: Mutex<Double>

    init(_ start: Double) { value = Mutex(start) }

    var now: Double { value.withLock { $0 } }

    func set(_ time: Double) { value.withLock { $0 = time } }

    func advance(by seconds: Double) { value.withLock { $0 += seconds } }
}

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
            let value = try #require(first.value)
            let expected: Double = 100 * (0.5 * 0.5 + 0.2 * 1) / 0.7
            #expect(abs(value - expected) < 1e-9)

            // a's last renewal, then a dies without releasing: b takes over once the lock lapses, with a newer token.
            _ = try await store.acquireLeadership(node: "a", ttl: .milliseconds(200))
            let running = Task { await b.run() }
            try await waitUntil(timeout: .seconds(30)) { (try await store.score()?.token ?? 0) > first.token }
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
            // A round on the empty store writes "no data", with its time.
            try await waitUntil(timeout: .seconds(30)) { try await store.score() != nil }
            #expect(try await store.score()?.value == nil)
            let now = unixNow()
            try await store.apply(DeltaCalculator.delta(for: [
                TelemetryEvent.completion(id: "1", session: "s", at: now, latencyMilliseconds: 100, accepted: true),
            ].records, bucketSeconds: 10), now: now)
            try await waitUntil(timeout: .seconds(30)) { try await store.score()?.value != nil }
            running.cancel()
            await running.value
        }
    }

    /// The seeds' alerting bug: an idle system must not look like a dead leader. Through an idle hour the
    /// leader writes "no data" every 30 s, so the exported score is NaN and its age never passes 30 s;
    /// once the leader stops, the age grows (and `TallyProductivityScoreStale` fires past 120 s).
    @Test(arguments: Backend.allCases)
    func anIdleHourKeepsTheScoreFreshAsNoDataAndOnlyAStoppedLeaderLetsItAge(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let start = 1_800_000_000.0
            let clock = ManualClock(start)
            try await store.apply(DeltaCalculator.delta(for: [
                TelemetryEvent.completion(id: "1", session: "s", at: start - 1, latencyMilliseconds: 100, accepted: true),
            ].records, bucketSeconds: 10), now: start)
            let leader = ScoreLeader(store: store, node: "a", lockTTL: .seconds(3600), now: { clock.now })
            let registry = MetricsRegistry()
            let exporter = try DerivedMetricsExporter(registry: registry, reader: DerivedMetricsReader(store: store), clock: { clock.now })
            #expect(try await leader.runOnce()?.value == 100)
            for round in 1...120 {
                clock.set(start + Double(round) * 30)
                let score = try #require(try await leader.runOnce())
                #expect(score.computedAt == clock.now)
                // The only event (in the bucket before `start`) leaves the window at start + 300.
                #expect((score.value == nil) == (round >= 10), "round \(round): \(score)")
                clock.advance(by: 29)  // the next round is a second away
                let read = try await exporter.refresh()
                #expect(read.productivityScoreAgeSeconds == 29)
                #expect((read.productivityScore == nil) == (round >= 10))
            }
            var text = registry.renderString(format: .prometheusText)
            #expect(text.contains("tally_productivity_score NaN\n"), "\(text)")
            #expect(text.contains("tally_productivity_score_age_seconds 29.0\n"), "\(text)")

            // The leader stops: nothing rewrites the score and its age grows past the alert's 120 s.
            clock.advance(by: 300)
            #expect(try await exporter.refresh().productivityScoreAgeSeconds == 329)
            clock.advance(by: 60)  // a scrape between refreshes recomputes the age from the last read
            text = registry.renderString(format: .prometheusText)
            #expect(text.contains("tally_productivity_score_age_seconds 389.0\n"), "\(text)")
        }
    }
}
