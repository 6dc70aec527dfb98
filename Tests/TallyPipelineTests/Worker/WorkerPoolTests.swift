import Foundation
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

@Suite struct WorkerPoolTests {
    static func fastConfiguration() -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.batchSize = 200
        configuration.block = .milliseconds(100)
        configuration.claimMinIdle = .milliseconds(300)
        configuration.claimInterval = .milliseconds(100)
        configuration.errorBackoff = .milliseconds(20)
        return configuration
    }

    /// Runs a pool until the log has nothing pending or undelivered, then stops it gracefully.
    static func drain(_ log: any EventLog, workers: Int, configuration: WorkerConfiguration = fastConfiguration(), metrics: PipelineMetrics? = nil,
                      until extra: @escaping @Sendable (LogFigures) -> Bool = { _ in true }) async throws {
        let pool = WorkerPool(log: log, committer: log.committer, concurrency: workers, configuration: configuration, metrics: metrics, consumerPrefix: "worker", executor: testWorkerExecutor)
        let running = Task { await pool.run() }
        // A deadline, not a speed: 100,000 events on Redis can take over 90 s while the whole suite shares two
        // cores. At most 180 s, so that events of the last 100 s are still in the 300 s window when read.
        try await waitUntil(timeout: .seconds(180)) {
            let figures = try await log.figures()
            return figures.pending == 0 && figures.lag == 0 && extra(figures)
        }
        pool.stop()
        await running.value
    }

    static func processed(_ metrics: PipelineMetrics) -> Int64 {
        EventType.allCases.map { metrics.processed.labels($0.rawValue).value }.reduce(0, +)
    }

    @Test func theRunningWorkersGaugeCountsLiveLoopsAndFallsToZeroOnStop() async throws {
        let log = MemoryEventLog(store: MemoryStateStore())
        let metrics = try PipelineMetrics(registry: MetricsRegistry())
        #expect(metrics.workersRunning.value == 0)
        let pool = WorkerPool(log: log, committer: log.committer, concurrency: 3, configuration: Self.fastConfiguration(), metrics: metrics, consumerPrefix: "gauge", executor: testWorkerExecutor)
        let running = Task { await pool.run() }
        try await waitUntil(timeout: .seconds(30)) { metrics.workersRunning.value == 3 }  // a deadline, not a timing: the suite starts many servers at once
        pool.stop()
        await running.value
        #expect(metrics.workersRunning.value == 0)
    }

    @Test(arguments: Backend.allCases, [100_000])
    func threeWorkersComputeExactlyWhatTheEventsSay(backend: Backend, eventCount: Int) async throws {
        try await backend.with { log, store, _ in
            // Events of the last 100 s: the window (300 s) still holds them all when the drain takes
            // minutes on a loaded machine.
            var generator = SessionGenerator(seed: 42, now: unixNow(), span: 100)
            let events = generator.events(count: eventCount)
            for start in stride(from: 0, to: events.count, by: 1000) {
                try await log.append(Array(events[start..<min(start + 1000, events.count)]).records)
            }
            // A consumer that reads a batch and dies: its entries must be claimed and applied by the pool.
            let abandoned = try await log.read(consumer: "crashed", from: .new, count: 50, block: nil)
            #expect(abandoned.count == 50)

            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            try await Self.drain(log, workers: 3, metrics: metrics)
            #expect(Self.processed(metrics) == Int64(eventCount))
            #expect(metrics.reclaimed.value >= 50)

            let exact = ExactMetrics(events)
            // The session figures are the leader's: one round computes them.
            _ = try await ScoreLeader(store: store, node: "leader").runOnce()
            let derived = try await DerivedMetricsReader(store: store, log: log).read(now: unixNow())
            #expect(derived.completions == exact.completions)
            #expect(derived.acceptanceRatio == exact.accepted / exact.completions)
            #expect(derived.toolCalls == exact.tools)
            #expect(derived.toolSuccessRatio == exact.tools.mapValues { $0.success / $0.total })
            #expect(derived.clientErrors == exact.codes)
            #expect(derived.activeSessions == exact.activeSessions.count)
            #expect(try await store.activeSessions(now: unixNow()) == exact.activeSessions)
            for (q, value) in [(0.5, derived.completionLatencySeconds.p50), (0.9, derived.completionLatencySeconds.p90),
                               (0.95, derived.completionLatencySeconds.p95), (0.99, derived.completionLatencySeconds.p99)] {
                let truth = ExactMetrics.quantile(exact.latencies, q)
                #expect(abs(try #require(value) - truth) / truth <= 0.01, "p\(q * 100): \(String(describing: value)) vs \(truth)")
            }
            let perMinute = exact.activeSessions.map { $0.toolsPerMinute() }.sorted()
            let p90 = try #require(derived.sessionToolsPerMinute.p90)
            #expect(abs(p90 - ExactMetrics.quantile(perMinute, 0.9)) / ExactMetrics.quantile(perMinute, 0.9) <= 0.01)
            #expect(derived.log?.deadLetters == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func aWorkerWhoseEntriesWereClaimedAppliesNothingForThemAndReportsTheLoss(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let now = unixNow()
            try await log.append((0..<10).map { TelemetryEvent.completion(id: "c\($0)", session: "s", at: now - 1, latencyMilliseconds: 5, accepted: true) }.records)
            let stale = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let claimed = try await log.claimIdle(consumer: "b", minIdle: .zero, count: 4)
            #expect(claimed.entries.count == 4)
            let metricsA = try PipelineMetrics(registry: MetricsRegistry())
            let workerA = PipelineWorker(log: log, committer: log.committer, consumer: "a", metrics: metricsA)
            try await workerA.process(stale)
            #expect(metricsA.ownershipLost.value == 4)
            #expect(Self.processed(metricsA) == 6)
            #expect(try await store.window(now: unixNow()).completions == 6)
            try await PipelineWorker(log: log, committer: log.committer, consumer: "b").process(claimed.entries)
            #expect(try await store.window(now: unixNow()).completions == 10)
            #expect(try await log.figures().pending == 0)
        }
    }
}
