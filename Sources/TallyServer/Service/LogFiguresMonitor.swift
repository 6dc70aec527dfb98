import Synchronization
import TallyPipeline

/// The log's figures as a node last read them. One loop reads them (``LoadMonitorService``, every
/// sampling interval) and everything else that needs them (the sampler, the queue gauges,
/// `/health`) uses that read, so a node asks Redis for them once per interval, not once per user.
public final class LogFiguresMonitor: Sendable {
    /// What the last read gave, as of now.
    public enum Reading: Sendable {
        case read(LogFigures)
        /// The last read failed with this error.
        case failed(String)
        /// No read within the allowed age (nil: never read).
        case stale(age: Duration?)
    }

    private let last = Mutex<(figures: LogFigures?, error: String?, at: ContinuousClock.Instant)?>(nil)

    public init() {}

    func record(_ figures: LogFigures) {
        last.withLock { $0 = (figures, nil, .now) }
    }

    func record(error: any Error) {
        last.withLock { $0 = (nil, "\(error)", .now) }
    }

    /// The last read if it succeeded at most `maxAge` ago; otherwise reads `log` now (as the loop
    /// would, recording the outcome), so that a caller never gets figures older than `maxAge`.
    public func current(maxAge: Duration, from log: any EventLogFront) async throws -> LogFigures {
        if case .read(let figures) = latest(maxAge: maxAge) { return figures }
        return try await read(log)
    }

    /// Reads `log`'s figures and records the outcome.
    @discardableResult
    public func read(_ log: any EventLogFront) async throws -> LogFigures {
        do {
            let figures = try await log.figures()
            record(figures)
            return figures
        } catch {
            record(error: error)
            throw error
        }
    }

    /// The last read if it is at most `maxAge` old.
    public func latest(maxAge: Duration) -> Reading {
        last.withLock { last in
            guard let last else { return .stale(age: nil) }
            let age = ContinuousClock.now - last.at
            if age > maxAge { return .stale(age: age) }
            if let figures = last.figures { return .read(figures) }
            return .failed(last.error ?? "unknown error")
        }
    }
}
