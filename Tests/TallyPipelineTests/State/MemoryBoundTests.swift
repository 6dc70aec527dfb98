import Foundation
import TallyMetrics
import TallyPipeline
import TallyRedis
import Testing

@Suite struct MemoryBoundTests {
    /// Many sessions, tool names and error codes: the state stays within caps and expiry.
    @Test(arguments: Backend.allCases)
    func manySessionsAndToolNamesLeaveABoundedState(backend: Backend) async throws {
        var configuration = StateConfiguration()
        configuration.windowSeconds = 60
        configuration.sessionTimeoutSeconds = 30
        configuration.maxTools = 20
        configuration.maxErrorCodes = 10
        try await backend.with(configuration: configuration) { log, store, harness in
            let now = unixNow()
            var events: [TelemetryEvent] = []
            for i in 0..<6000 {
                let ts = now - 200 + Double(i) * 200 / 6000
                let session = "s\(i / 3)"  // 2,000 sessions
                switch i % 3 {
                case 0: events.append(.toolCall(id: "e\(i)", session: session, at: ts, tool: "tool-\(i % 500)", success: true))
                case 1: events.append(.clientError(id: "e\(i)", session: session, at: ts, code: "code-\(i % 200)"))
                default: events.append(.completion(id: "e\(i)", session: session, at: ts, latencyMilliseconds: Double(i % 1000), accepted: true))
                }
            }
            for start in stride(from: 0, to: events.count, by: 1000) {
                try await log.append(Array(events[start..<start + 1000]).records)
            }
            var workerConfiguration = WorkerPoolTests.fastConfiguration()
            workerConfiguration.batchSize = 500
            workerConfiguration.trimInterval = .milliseconds(50)
            let pool = WorkerPool(log: log, concurrency: 2, bucketSeconds: configuration.bucketSeconds, configuration: workerConfiguration, consumerPrefix: "w")
            let running = Task { await pool.run() }
            // The workers trim the log themselves once everything is acknowledged.
            try await waitUntil(timeout: .seconds(60)) {
                let f = try await log.figures()
                return f.pending == 0 && f.lag == 0 && f.length <= 1
            }
            pool.stop()
            await running.value

            let totals = try await store.toolCallTotals()
            #expect(totals.count == 21)
            #expect(totals.values.map(\.total).reduce(0, +) == 2000)
            #expect(try await store.errorCodeTotals().count == 11)
            // Sessions seen in the last 30 s (plus a little for the time the test takes), at most.
            let recentSessions = Set(events.filter { $0.timestamp >= unixNow() - 40 }.map(\.sessionID)).count
            if let pool = harness.pool {
                let keys = try await pool.send(RedisCommand("DBSIZE")).int ?? 0
                // stream, dlq-free, 3 tool keys, 2 code keys, active-session set, score-free; buckets ≤ W/10 + future.
                #expect(keys <= 8 + configuration.bucketCount + 1 + recentSessions, "\(keys) keys")
                #expect(try await log.figures().length <= 1)
            } else if let memory = store as? MemoryStateStore {
                _ = try await memory.activeSessions(now: unixNow())  // as the exporter's periodic read does
                let held = memory.heldItems
                #expect(held.buckets <= configuration.bucketCount)
                #expect(held.sessions <= recentSessions)
                #expect(held.tools == 21 && held.codes == 11)
            }
        }
    }
}
