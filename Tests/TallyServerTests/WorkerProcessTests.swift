import AsyncHTTPClient
import Foundation
import Testing
import TallyPipeline
import TallyRedis
import TallyTesting

/// `tally worker` processes on one Redis: killed with SIGKILL at random points
/// and restarted, they still apply every event exactly once.
@Suite struct WorkerProcessTests {
    static func startWorker(redis: String, arguments extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeProcessTests.tallyPath)
        process.arguments = ["worker", "--redis", redis, "--concurrency", "2", "--claim-idle", "1"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runTracked()
        return process
    }

    @Test func threeWorkerProcessesKilledAtRandomLoseAndDoubleCountNothing() async throws {
        let redis = try await RedisServer.start()
        let pool = try RedisConnectionPool(url: redis.url, leaseTimeout: RedisServer.leaseTimeout)
        let log = RedisEventLog(client: pool)
        let store = RedisStateStore(client: pool)
        try await log.prepare()

        // 100,000 realistic events, appended before and while the workers run.
        var generator = SessionEventGenerator(sessions: 300, seed: 2026)
        let decoder = EventDecoder()
        var expectedTools: [String: OutcomeCounts] = [:]
        var expectedCompletions = 0.0
        var expectedErrors = 0.0
        var batches: [[EventRecord]] = []
        for _ in 0..<1000 {
            let events = try decoder.decodeBatch(Array(generator.batch(100).utf8), format: .ndjson)
            for event in events {
                switch event.type {
                case .completion: expectedCompletions += 1
                case .error: expectedErrors += 1
                case .toolCall:
                    if event.success == true {
                        expectedTools[event.tool!, default: OutcomeCounts()].success += 1
                    } else {
                        expectedTools[event.tool!, default: OutcomeCounts()].failure += 1
                    }
                default: break
                }
            }
            batches.append(events.map { EventRecord(event: $0) })
        }
        for batch in batches.prefix(100) { try await log.append(batch) }

        var workers = try (0..<3).map { _ in try Self.startWorker(redis: redis.url) }
        var random = SeededRandom(seed: 7)
        for (index, batch) in batches.dropFirst(100).enumerated() {
            try await log.append(batch)
            if index % 50 == 25 {
                // SIGKILL one worker at a random moment and start a new one in its place.
                let victim = Int(random.next() % 3)
                kill(workers[victim].processIdentifier, SIGKILL)
                await workers[victim].exited()
                workers[victim] = try Self.startWorker(redis: redis.url)
            }
            try await Task.sleep(for: .milliseconds(Int(random.next() % 10)))
        }

        let drained = try await eventually(seconds: 60) {
            let figures = try await log.figures()
            return figures.lag == 0 && figures.pending == 0
        }
        #expect(drained)
        let tools = try await store.toolCallTotals()
        let errors = try await store.errorCodeTotals().values.reduce(0, +)
        let window = try await store.window(now: Date().timeIntervalSince1970)
        #expect(tools == expectedTools)
        #expect(errors == expectedErrors)
        #expect(window.completions == expectedCompletions)
        #expect(try await log.figures().deadLetters == 0)

        for worker in workers {
            worker.terminate()
            await worker.exited()
        }
        await pool.close()
        await redis.stop()
    }

    /// `--max-deliveries` (or `TALLY_MAX_DELIVERIES`) sets how many failures an entry gets before it
    /// is dead-lettered; below 1 it is refused with one clear line.
    @Test func maxDeliveriesComesFromTheFlagOrTheEnvironmentAndMustBeAtLeastOne() async throws {
        let refused = try await ExternalTool.run(ServeProcessTests.tallyPath, ["worker", "--redis", "redis://127.0.0.1:1", "--max-deliveries", "0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--max-deliveries must be at least 1, got 0"), "\(refused.stderr)")

        let redis = try await RedisServer.start()
        let pool = try RedisConnectionPool(url: redis.url, leaseTimeout: RedisServer.leaseTimeout)
        let log = RedisEventLog(client: pool)
        try await log.prepare()
        // With the default of 3 and a 30 s claim idle, a poison entry would wait a minute; with 1 it
        // is dead-lettered at its first delivery.
        for (round, setting) in [(arguments: [String](), environment: ["TALLY_MAX_DELIVERIES": "1"]), (arguments: ["--max-deliveries", "1"], environment: [:])].enumerated() {
            try await log.append(entries: [[(name: "junk", value: "\(round)")]])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServeProcessTests.tallyPath)
            process.arguments = ["worker", "--redis", redis.url, "--concurrency", "1"] + setting.arguments
            process.environment = ProcessInfo.processInfo.environment.merging(setting.environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.runTracked()
            let moved = try await eventually(seconds: 20) { try await log.figures().deadLetters == round + 1 }
            #expect(moved, "round \(round)")
            process.terminate()
            await process.exited()
        }
        let letters = try await log.deadLetters(count: 10)
        #expect(letters.map(\.deliveries) == [1, 1])
        await pool.close()
        await redis.stop()
    }

    /// `tally worker --metrics-port` serves the process's own figures: what it processed, its
    /// workers and its Redis pool, in valid exposition.
    @Test func aWorkerProcessServesItsOwnMetrics() async throws {
        let redis = try await RedisServer.start()
        let pool = try RedisConnectionPool(url: redis.url, leaseTimeout: RedisServer.leaseTimeout)
        let log = RedisEventLog(client: pool)
        try await log.prepare()
        var generator = SessionEventGenerator(sessions: 20, seed: 11)
        let events = try EventDecoder().decodeBatch(Array(generator.batch(500).utf8), format: .ndjson)
        try await log.append(events.map { EventRecord(event: $0) })

        let port = ServeProcessTests.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeProcessTests.tallyPath)
        process.arguments = ["worker", "--redis", redis.url, "--concurrency", "2", "--metrics-port", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runTracked()
        let client = HTTPClient.shared
        let base = "http://127.0.0.1:\(port)"
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))
        let drained = try await eventually(seconds: 60) {
            let figures = try await log.figures()
            return figures.lag == 0 && figures.pending == 0
        }
        #expect(drained)

        let (status, body) = try await ServeProcessTests.get(base + "/metrics", client: client)
        #expect(status == 200)
        let samples = ExpositionSamples(body)
        let processed = samples.values.filter { $0.key.hasPrefix("tally_events_processed_total{") }.values.reduce(0, +)
        #expect(processed == Double(events.count))
        #expect(samples["tally_workers_running"] == 2)
        #expect(samples[#"db_pool_max_connections{pool="redis"}"#] == 4)
        #expect(try await ExpositionCheckers.promtoolProblems(Array(body.utf8)) == "")

        process.terminate()
        await process.exited()
        #expect(process.terminationStatus == 0)
        await pool.close()
        await redis.stop()
    }
}
