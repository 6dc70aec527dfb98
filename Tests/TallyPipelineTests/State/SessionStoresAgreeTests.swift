import Foundation
import TallyPipeline
import TallyTesting
import Testing

/// Both stores keep the same sessions through everything a deployment sends them: ends, ids that
/// come back after the timeout, events older than the timeout (a backfill), batches that touch a
/// session again and again. The Redis store keeps them in four keys written by the apply script,
/// the memory store in one table: two independent codings of one rule, checked against each other.
@Suite struct SessionStoresAgreeTests {
    static let start = 1_800_000_000.0

    /// Random batches over 25 session ids at times that move on by 1–60 s, now and then by more
    /// than the 600 s timeout: starts, tool calls, completions, ends, and events older than the
    /// timeout (a backfill).
    static func batches(seed: UInt64, count: Int) -> [(now: Double, events: [TelemetryEvent])] {
        var random = SeededRandom(seed: seed)
        var now = start
        var batches: [(now: Double, events: [TelemetryEvent])] = []
        var serial = 0
        for _ in 0..<count {
            now += random.unit() < 0.05 ? 650 + 100 * random.unit() : 1 + 59 * random.unit()
            var events: [TelemetryEvent] = []
            for _ in 0..<(1 + Int(random.next() % 12)) {
                serial += 1
                let session = "s\(random.next() % 25)"
                let at = random.unit() < 0.05 ? now - 650 - 200 * random.unit() : now - 30 * random.unit()
                let id = "e\(serial)"
                switch random.next() % 20 {
                case 0: events.append(.sessionEnd(id: id, session: session, at: at))
                case 1...3: events.append(.sessionStart(id: id, session: session, at: at))
                case 4...11: events.append(.toolCall(id: id, session: session, at: at, tool: "t\(random.next() % 3)", success: random.next() % 4 != 0))
                default: events.append(.completion(id: id, session: session, at: at, latencyMilliseconds: 100, accepted: true))
                }
            }
            batches.append((now, events))
        }
        return batches
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theRedisStoreKeepsTheSessionsTheMemoryStoreKeeps(seed: UInt64) async throws {
        var configuration = StateConfiguration()
        configuration.sessionTimeoutSeconds = 600
        try await Backend.redis.with(configuration: configuration) { _, redis, _ in
            let memory = MemoryStateStore(configuration: configuration)
            var compared = 0
            let batches = Self.batches(seed: seed, count: 240)
            for (index, batch) in batches.enumerated() {
                let delta = DeltaCalculator.delta(for: batch.events.records, bucketSeconds: configuration.bucketSeconds)
                try await memory.apply(delta, now: batch.now)
                try await redis.apply(delta, now: batch.now)
                // After the last batch also 300 s later, when some sessions have gone quiet (a read
                // sweeps the memory store at its time, so not before that).
                for at in index == batches.count - 1 ? [batch.now, batch.now + 300] : [batch.now] {
                    let expected = try await memory.activeSessions(now: at)
                    let got = try await redis.activeSessions(now: at)
                    #expect(got == expected, "batch \(index) at +\(at - batch.now) s: only in memory \(expected.filter { !got.contains($0) }), only on Redis \(got.filter { !expected.contains($0) })")
                    compared += expected.count
                }
            }
            #expect(compared > 1000)
        }
    }
}
