import Foundation
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

/// Failed commits: a poison entry is isolated and dead-lettered while everything else is applied once;
/// a systemic fault dead-letters nothing, is retried with growing pauses, and once repaired every entry
/// is applied exactly once.
@Suite struct CommitFailureTests {
    static func configuration(batchSize: Int = 500, maxDeliveries: Int = 3) -> WorkerConfiguration {
        var configuration = WorkerPoolTests.fastConfiguration()
        configuration.batchSize = batchSize
        configuration.maxDeliveries = maxDeliveries
        configuration.errorBackoff = .milliseconds(5)
        configuration.maxErrorBackoff = .milliseconds(80)
        return configuration
    }

    /// A pool over `log` running until `stop()`.
    struct RunningPool {
        let pool: WorkerPool
        let task: Task<Void, Never>

        init(_ log: any EventLog, workers: Int = 1, configuration: WorkerConfiguration, metrics: PipelineMetrics, logs: CapturedLogs = CapturedLogs()) {
            pool = WorkerPool(log: log, committer: log.committer, concurrency: workers, configuration: configuration, metrics: metrics, consumerPrefix: "worker", logger: logs.logger(), executor: testWorkerExecutor)
            let pool = pool
            task = Task { await pool.run() }
        }

        func stop() async {
            pool.stop()
            await task.value
        }
    }

    /// Waits until the log has nothing pending or undelivered and `extra` holds.
    static func drained(_ log: any EventLog, _ extra: @escaping @Sendable (LogFigures) -> Bool = { _ in true }) async throws {
        try await waitUntil(timeout: .seconds(90)) {
            let figures = try await log.figures()
            return figures.pending == 0 && figures.lag == 0 && extra(figures)
        }
    }

    /// The store holds exactly what `events` say, computed offline.
    static func expectExact(_ store: any StateStore, _ events: [TelemetryEvent], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let exact = ExactMetrics(events)
        let now = unixNow()
        let window = try await store.window(now: now)
        #expect(window.completions == exact.completions, sourceLocation: sourceLocation)
        #expect(window.accepted == exact.accepted, sourceLocation: sourceLocation)
        #expect(window.latency.count == Double(exact.latencies.count), sourceLocation: sourceLocation)
        #expect(try await store.toolCallTotals() == exact.tools, sourceLocation: sourceLocation)
        #expect(try await store.errorCodeTotals() == exact.codes, sourceLocation: sourceLocation)
        #expect(try await store.activeSessions(now: now) == exact.activeSessions, sourceLocation: sourceLocation)
    }

    @Test(arguments: Backend.allCases)
    func anEntryWhoseCommitAlwaysFailsIsDeadLetteredAloneAndEverythingElseIsAppliedOnce(backend: Backend) async throws {
        try await backend.with { inner, store, _ in
            let log = FaultyLog(inner)
            var generator = SessionGenerator(seed: 11, now: unixNow())
            let events = generator.events(count: 400)
            let ids = try await log.append(events.records)
            let poisonIndex = 237
            let poisonID = ids[poisonIndex]
            log.inject { commit in
                commit.acknowledged.contains(poisonID) ? InjectedFailure(message: "entry \(poisonID) breaks the apply step") : nil
            }
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            let logs = CapturedLogs()
            let running = RunningPool(log, configuration: Self.configuration(), metrics: metrics, logs: logs)
            try await Self.drained(log) { $0.deadLetters == 1 }
            await running.stop()

            let letters = try await inner.deadLetters(count: 10)
            #expect(letters.map(\.originalID) == [poisonID])
            #expect(letters.first?.error == "entry \(poisonID) breaks the apply step")
            #expect(letters.first?.fields.map(\.value) == EventRecord(event: events[poisonIndex]).fields.map(\.value))
            var good = events
            good.remove(at: poisonIndex)
            try await Self.expectExact(store, good)
            #expect(WorkerPoolTests.processed(metrics) == Int64(good.count))
            #expect(metrics.deadLettered.value == 1)
            // The whole batch failed 3 times, then every part holding the entry, then the entry alone 3 times.
            #expect(metrics.commitFailureCounter(.poison).value >= 6)
            #expect(metrics.commitFailureCounter(.systemic).value == 0)
            let warnings = logs.all.filter { $0.level == .warning && $0.message.contains("moved to the dead-letter stream") }
            #expect(warnings.count == 1)
            #expect(warnings.first.map { $0.message.contains(poisonID) && $0.message.contains("breaks the apply step") } == true)
        }
    }

    /// A fault of the store itself: on Redis a state key of the wrong type, in memory an injected
    /// refusal of the state. Nothing is dead-lettered, failed commits are retried with pauses that
    /// double up to the cap, and once repaired every entry is applied exactly once.
    @Test(arguments: Backend.allCases)
    func aSystemicFaultDeadLettersNothingAndOnceRepairedEveryEntryIsAppliedOnce(backend: Backend) async throws {
        try await backend.with { inner, store, harness in
            let log = FaultyLog(inner)
            var generator = SessionGenerator(seed: 12, now: unixNow())
            let events = generator.events(count: 300)
            _ = try await log.append(events.records)
            let sessionsFirst = RedisKeys().sessionFirstSeen
            if let pool = harness.pool {
                _ = try await pool.send(RedisCommand("SET", .string(sessionsFirst), "in the way"))
            } else {
                log.inject { _ in ApplyError(kind: .state, message: "injected: the store cannot be written") }
            }
            var configuration = Self.configuration()
            configuration.errorBackoff = .milliseconds(20)
            configuration.maxErrorBackoff = .milliseconds(320)
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            let running = RunningPool(log, configuration: configuration, metrics: metrics)
            try await waitUntil(timeout: .seconds(30)) { log.failedCommits.count >= 9 }

            #expect(try await log.figures().deadLetters == 0)
            #expect(try await store.window(now: unixNow()).completions == 0)
            #expect(WorkerPoolTests.processed(metrics) == 0)
            #expect(metrics.commitFailureCounter(.systemic).value >= 8)
            #expect(metrics.commitFailureCounter(.poison).value == 0)
            // Backed off, never a tight loop: pause k is at least half of min(320 ms, 20 ms × 2^(k−1)).
            // (The cap is checked exactly on the schedule itself, below: a loaded machine only adds time.)
            let times = log.failedCommits
            for k in 1..<min(times.count, 9) {
                let gap = times[k] - times[k - 1]
                let step = min(320.0, 20.0 * Double(1 << (k - 1)))
                #expect(gap >= .milliseconds(Int(step / 2) - 1), "pause \(k): \(gap)")
            }
            for k in 1...40 {
                let step = min(320.0, 20.0 * Double(1 << min(k - 1, 30)))
                #expect(configuration.backoff(afterFailures: k, jitter: 1) == .milliseconds(Int64(step)), "pause \(k)")
                #expect(configuration.backoff(afterFailures: k, jitter: 0) == .milliseconds(Int64((step / 2).rounded())), "pause \(k)")
            }

            if let pool = harness.pool {
                _ = try await pool.send(RedisCommand("DEL", .string(sessionsFirst)))
            } else {
                log.inject(nil)
            }
            try await Self.drained(log)
            await running.stop()
            try await Self.expectExact(store, events)
            #expect(try await log.figures().deadLetters == 0)
            #expect(WorkerPoolTests.processed(metrics) == Int64(events.count))
            #expect(metrics.commitFailureCounter(.poison).value == 0)
        }
    }

    /// The server refuses writes: a read-only replica (`REPLICAOF`), or out of memory (`CONFIG SET
    /// maxmemory`). Redis refuses the script's first write, so nothing changes; the worker waits.
    @Test(arguments: ["REPLICAOF", "maxmemory"])
    func aServerThatRefusesWritesDeadLettersNothingAndTheBatchIsAppliedOnceItAcceptsThemAgain(fault: String) async throws {
        try await Backend.redis.with { log, store, harness in
            let pool = try #require(harness.pool)
            var generator = SessionGenerator(seed: 13, now: unixNow())
            let events = generator.events(count: 200)
            try await log.append(events.records)
            let entries = try await log.read(consumer: "w", from: .new, count: 500, block: nil)
            #expect(entries.count == events.count)
            let (breaking, repairing): (RedisCommand, RedisCommand) = fault == "REPLICAOF"
                ? (RedisCommand("REPLICAOF", "127.0.0.1", "1"), RedisCommand("REPLICAOF", "NO", "ONE"))
                : (RedisCommand("CONFIG", "SET", "maxmemory", "1"), RedisCommand("CONFIG", "SET", "maxmemory", "0"))
            _ = try await pool.send(breaking)
            let before = try await ApplyStepTests.redisState(pool)
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            let worker = PipelineWorker(log: log, committer: log.committer, consumer: "w", configuration: Self.configuration(), metrics: metrics)
            let processing = Task { try await worker.process(entries) }
            try await waitUntil(timeout: .seconds(30)) { metrics.commitFailureCounter(.systemic).value >= 4 }
            #expect(try await ApplyStepTests.redisState(pool) == before, "a refused commit changed something")
            #expect(try await log.figures().deadLetters == 0)
            _ = try await pool.send(repairing)
            try await processing.value
            try await Self.expectExact(store, events)
            #expect(try await log.figures().pending == 0)
            #expect(try await log.figures().deadLetters == 0)
            #expect(metrics.commitFailureCounter(.poison).value == 0)
        }
    }

    /// A failure no classification knows, shared by every entry: each fails alone and none commits,
    /// so it is systemic after all. Nothing is dead-lettered; once it is gone all are applied once.
    @Test(arguments: Backend.allCases)
    func aFailureEveryEntryHasAloneIsSystemicAndDeadLettersNothing(backend: Backend) async throws {
        try await backend.with { inner, store, _ in
            let log = FaultyLog(inner)
            var generator = SessionGenerator(seed: 14, now: unixNow())
            let events = generator.events(count: 6)
            log.inject { commit in commit.acknowledged.isEmpty ? nil : InjectedFailure(message: "the apply step is broken") }
            _ = try await log.append(events.records)
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            let running = RunningPool(log, configuration: Self.configuration(batchSize: 6, maxDeliveries: 2), metrics: metrics)
            // The batch (2), its parts, each entry alone (2 each): then the verdict, and more retries.
            try await waitUntil(timeout: .seconds(30)) { metrics.commitFailureCounter(.systemic).value >= 20 }
            #expect(try await log.figures().deadLetters == 0)
            #expect(metrics.commitFailureCounter(.poison).value == 0)
            #expect(try await store.window(now: unixNow()).completions == 0)
            log.inject(nil)
            try await Self.drained(log)
            await running.stop()
            try await Self.expectExact(store, events)
            #expect(try await log.figures().deadLetters == 0)
            #expect(WorkerPoolTests.processed(metrics) == Int64(events.count))
        }
    }
}
