import Foundation
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyTesting
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
            let pool = WorkerPool(log: log, committer: log.committer, concurrency: 2, bucketSeconds: configuration.bucketSeconds, configuration: workerConfiguration, consumerPrefix: "w", executor: testWorkerExecutor)
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

    /// A million events over 200,000 sessions, 5,000 tool names and 1,000 error codes, spread over
    /// the last 50 minutes (the last tenth live), go through the workers on Redis: the key count stays within the caps,
    /// the window and the session timeout, the stream is trimmed, and Redis's memory ends where a
    /// small state puts it, not where a million entries or 200,000 sessions would.
    @Test func aMillionEventsLeaveABoundedKeyCountAndMemoryInRedis() async throws {
        var configuration = StateConfiguration()
        configuration.windowSeconds = 60
        configuration.sessionTimeoutSeconds = 30
        try await Backend.redis.with(configuration: configuration) { log, store, harness in
            let pool = try #require(harness.pool)
            func usedMemory() async throws -> Int {
                let info = try await pool.send(RedisCommand("INFO", "memory")).string ?? ""
                let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }
                return Int(line?.dropFirst("used_memory:".count) ?? "") ?? -1
            }
            let baseline = try await usedMemory()
            var workerConfiguration = WorkerPoolTests.fastConfiguration()
            workerConfiguration.batchSize = 1000
            workerConfiguration.trimInterval = .milliseconds(100)
            let workers = WorkerPool(log: log, committer: log.committer, concurrency: 2, bucketSeconds: configuration.bucketSeconds, configuration: workerConfiguration, consumerPrefix: "w", executor: testWorkerExecutor)
            let running = Task { await workers.run() }

            let total = 1_000_000
            let span = 3000.0
            var peakLength = 0
            var toolCalls = 0.0
            for phase in 0..<10 {
                // Each phase's events end `span × (9 − phase) / 10` before the phase starts: the last phase is live.
                let start = unixNow() - span
                var batch: [TelemetryEvent] = []
                batch.reserveCapacity(1000)
                for i in phase * total / 10..<(phase + 1) * total / 10 {
                    let ts = start + Double(i) * span / Double(total)
                    let session = "s\(i / 5)"
                    switch i % 4 {
                    case 0:
                        batch.append(.toolCall(id: "e\(i)", session: session, at: ts, tool: "tool-\(i % 5000)", success: i % 3 != 0))
                        toolCalls += 1
                    case 1: batch.append(.clientError(id: "e\(i)", session: session, at: ts, code: "code-\(i % 1000)"))
                    default: batch.append(.completion(id: "e\(i)", session: session, at: ts, latencyMilliseconds: Double(1 + i % 2000), accepted: i % 2 == 0))
                    }
                    if batch.count == 1000 {
                        try await log.append(batch.records)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                peakLength = max(peakLength, try await log.figures().length)
                // Let the workers catch up between phases so that the stream itself stays short.
                try await waitUntil(timeout: .seconds(300)) {
                    let f = try await log.figures()
                    return f.pending == 0 && f.lag == 0
                }
            }
            try await waitUntil(timeout: .seconds(30)) { try await log.figures().length <= 1 }
            workers.stop()
            await running.value

            let totals = try await store.toolCallTotals()
            #expect(totals.count == configuration.maxTools + 1)
            #expect(totals.values.map(\.total).reduce(0, +) == toolCalls)
            #expect(try await store.errorCodeTotals().count == configuration.maxErrorCodes + 1)
            // The last 40 s of a 3,000 s span (30 s timeout plus the test's own time), 5 events a session.
            let recentSessions = Int((Double(total) * 40 / span / 5).rounded(.up)) + 1
            let keys = try await pool.send(RedisCommand("DBSIZE")).int ?? 0
            // Stream, tool and code sets and totals, the session sets, the settings, the delivery fence, and
            // the window's buckets (plus one being written).
            #expect(keys <= 12 + configuration.bucketCount + 1, "\(keys) keys")
            let redisKeys = RedisKeys()
            for (command, key) in [("ZCARD", redisKeys.activeSessions), ("ZCARD", redisKeys.sessionFirstSeen), ("HLEN", redisKeys.sessionToolCalls)] {
                let held = try await pool.send(RedisCommand(command, .string(key))).int ?? -1
                #expect(held <= recentSessions, "\(key) holds \(held) sessions")
            }
            let grown = try await usedMemory() - baseline
            print("1,000,000 events: \(keys) keys, \(try await store.activeSessions(now: unixNow()).count) live sessions, Redis used_memory grew by \(grown / 1024) KiB, stream peaked at \(peakLength) entries")
            // 200,000 session hashes alone would take well over 16 MiB; a million stream entries over 100 MiB.
            #expect(grown < 16 << 20, "used_memory grew by \(grown) bytes")
        }
    }
}
