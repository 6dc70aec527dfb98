import Foundation
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

@Suite struct CrashSafetyTests {
    /// Worker pools cancelled at random points — mid-read, mid-commit, between batches — stand in for
    /// killed processes: their uncommitted entries stay pending and are reclaimed by later pools.
    /// Afterwards every count is exact: nothing lost, nothing counted twice.
    @Test(arguments: Backend.allCases, [10_000])
    func workersStoppedAtRandomPointsLoseAndDoubleCountNothing(backend: Backend, eventCount: Int) async throws {
        try await backend.with { log, store, _ in
            var generator = SessionGenerator(seed: 7, now: unixNow())
            let events = generator.events(count: eventCount)
            for start in stride(from: 0, to: events.count, by: 1000) {
                try await log.append(Array(events[start..<min(start + 1000, events.count)]).records)
            }
            var configuration = WorkerPoolTests.fastConfiguration()
            configuration.batchSize = 100
            configuration.claimMinIdle = .milliseconds(150)
            configuration.claimInterval = .milliseconds(50)
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            var random = SeededRandom(seed: 99)
            for round in 0..<12 {
                let pool = WorkerPool(log: log, committer: log.committer, concurrency: 2, configuration: configuration, metrics: metrics, consumerPrefix: "round\(round)", executor: testWorkerExecutor)
                let running = Task { await pool.run() }
                try await Task.sleep(for: .milliseconds(20 + Int(random.next() % 120)))
                running.cancel()
                await running.value
            }
            try await WorkerPoolTests.drain(log, workers: 2, configuration: configuration, metrics: metrics)

            let exact = ExactMetrics(events)
            let window = try await store.window(now: unixNow())
            #expect(window.completions == exact.completions)
            #expect(window.accepted == exact.accepted)
            #expect(window.latency.count == Double(exact.latencies.count))
            #expect(try await store.toolCallTotals() == exact.tools)
            #expect(try await store.errorCodeTotals() == exact.codes)
            #expect(try await store.activeSessions(now: unixNow()) == exact.activeSessions)
            #expect(try await log.figures().deadLetters == 0)
        }
    }
}
