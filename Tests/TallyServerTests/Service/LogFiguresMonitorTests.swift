import Testing
import TallyPipeline
@testable import TallyServer

/// The node's one read of the log's figures: readers reuse it while it is fresh and read again only
/// when it is stale or failed.
@Suite struct LogFiguresMonitorTests {
    @Test func readersReuseAFreshReadAndReadAgainWhenItIsStaleOrFailed() async throws {
        let log = MemoryEventLog(store: MemoryStateStore())
        let monitor = LogFiguresMonitor()
        guard case .stale(nil) = monitor.latest(maxAge: .seconds(60)) else { Issue.record("a read before any"); return }

        try await log.append([EventRecord(event: .sessionStart(id: "e", session: "s", at: 1))])
        let first = try await monitor.read(log)
        #expect(first.length == 1)
        try await log.append([EventRecord(event: .sessionStart(id: "f", session: "s", at: 1))])
        // Fresh: the recorded read, not a new one (the log holds 2 entries by now).
        #expect(try await monitor.current(maxAge: .seconds(60), from: log).length == 1)
        // Stale: read again.
        try await Task.sleep(for: .milliseconds(30))
        #expect(try await monitor.current(maxAge: .milliseconds(10), from: log).length == 2)
        guard case .read(let latest) = monitor.latest(maxAge: .seconds(60)) else { Issue.record("no read recorded"); return }
        #expect(latest.length == 2)

        monitor.record(error: CancellationError())
        guard case .failed = monitor.latest(maxAge: .seconds(60)) else { Issue.record("the failure was not recorded"); return }
        // A failed read is never reused: the next reader reads.
        #expect(try await monitor.current(maxAge: .seconds(60), from: log).length == 2)
    }
}
