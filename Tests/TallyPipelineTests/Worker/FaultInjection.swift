import Foundation
import Logging
import Synchronization
import TallyPipeline

/// An error no classification knows: what a bug in an apply step would throw.
struct InjectedFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A real log (Redis or memory) whose commits fail, before reaching its committer, whenever `fault`
/// returns an error for the batch; everything else goes straight through. Counts and times every
/// commit that failed, injected or not. It is its own committer (see `EventLog.committer`).
final class FaultyLog: EventLog, BatchCommitter {
    let inner: any EventLog
    private let fault = Mutex<(@Sendable (BatchCommit) -> (any Error)?)?>(nil)
    private let failures = Mutex<[ContinuousClock.Instant]>([])

    init(_ inner: any EventLog) {
        self.inner = inner
    }

    /// Makes every commit for which `rule` returns an error fail with it (nil: no more faults).
    func inject(_ rule: (@Sendable (BatchCommit) -> (any Error)?)?) {
        fault.withLock { $0 = rule }
    }

    /// When each failed commit failed.
    var failedCommits: [ContinuousClock.Instant] { failures.withLock { $0 } }

    func commit(_ commit: BatchCommit, consumer: String, now: Double?) async throws -> CommitOutcome {
        if let error = fault.withLock({ $0 })?(commit) {
            failures.withLock { $0.append(.now) }
            throw error
        }
        do {
            return try await inner.committer.commit(commit, consumer: consumer, now: now)
        } catch {
            failures.withLock { $0.append(.now) }
            throw error
        }
    }

    func prepare() async throws { try await inner.prepare() }
    func append(_ records: [EventRecord]) async throws -> [String] { try await inner.append(records) }
    func append(_ request: AppendRequest) async throws -> AppendOutcome { try await inner.append(request) }
    func checkReachable() async throws { try await inner.checkReachable() }
    func appendRecordFigures() async throws -> AppendRecordFigures { try await inner.appendRecordFigures() }
    func append(entries: [[(name: String, value: String)]]) async throws -> [String] { try await inner.append(entries: entries) }
    func read(consumer: String, from position: ReadPosition, count: Int, block: Duration?) async throws -> [LogEntry] {
        try await inner.read(consumer: consumer, from: position, count: count, block: block)
    }
    func readNew(consumer: String, count: Int, block: Duration?) async throws -> LogRead {
        try await inner.readNew(consumer: consumer, count: count, block: block)
    }
    func claimIdle(consumer: String, minIdle: Duration, count: Int) async throws -> ClaimResult {
        try await inner.claimIdle(consumer: consumer, minIdle: minIdle, count: count)
    }
    func deliveryCounts(of ids: [String]) async throws -> [String: Int] { try await inner.deliveryCounts(of: ids) }
    func figures() async throws -> LogFigures { try await inner.figures() }
    func trim() async throws -> Int { try await inner.trim() }
    func appendAges(ofEntries ids: [String]) async throws -> [String: Double] { try await inner.appendAges(ofEntries: ids) }
    func oldestWaitingAge() async throws -> Double? { try await inner.oldestWaitingAge() }
}

/// Log records kept in memory, to check what a worker logged and at which level.
final class CapturedLogs: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
    }

    private let lines = Mutex<[Line]>([])

    var all: [Line] { lines.withLock { $0 } }

    func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(sink: self) }
        logger.logLevel = .debug
        return logger
    }

    fileprivate func record(_ line: Line) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.record(Line(level: event.level, message: event.message.description))
        }
    }
}
