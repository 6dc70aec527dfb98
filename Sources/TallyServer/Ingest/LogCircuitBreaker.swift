import Synchronization

/// Keeps ingest answering within its deadline while the log is unreachable.
///
/// After `failureThreshold` consecutive failed appends the breaker opens: requests get
/// `503` at once instead of waiting on a log that is down. While open, one probe at a
/// time (`EventLog.checkReachable`) runs in the background, at most every
/// `probeInterval`, started by the requests it turns away; the first probe that
/// succeeds closes the breaker. Independently, at most `maxWaiting` appends may wait
/// on the log at once; the excess is turned away at once too.
public final class LogCircuitBreaker: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Consecutive failed appends that open the breaker.
        public var failureThreshold: Int
        /// Least time between two probes while open.
        public var probeInterval: Duration
        /// Deadline of one probe.
        public var probeTimeout: Duration
        /// Appends that may wait on the log at once.
        public var maxWaiting: Int

        public init(failureThreshold: Int = 3, probeInterval: Duration = .milliseconds(200), probeTimeout: Duration = .seconds(1), maxWaiting: Int = 512) {
            self.failureThreshold = max(1, failureThreshold)
            self.probeInterval = probeInterval
            self.probeTimeout = probeTimeout
            self.maxWaiting = max(1, maxWaiting)
        }
    }

    /// Whether a request may go to the log now.
    public enum Admission: Sendable, Hashable {
        case admitted
        /// The breaker is open: the log failed `failureThreshold` times in a row and no probe has succeeded since.
        case open(reason: String)
        /// `maxWaiting` appends are already waiting on the log.
        case saturated
    }

    private struct State {
        var consecutiveFailures = 0
        var openReason: String?
        var probing = false
        var lastProbe: ContinuousClock.Instant?
        var waiting = 0
    }

    public let configuration: Configuration
    private let state = Mutex(State())
    private let probe: @Sendable () async throws -> Void
    private let onChange: @Sendable (Bool) -> Void

    /// `probe` throws while the log is unreachable; `onChange` hears `true` when the breaker opens and `false` when it closes.
    public init(configuration: Configuration = Configuration(), probe: @escaping @Sendable () async throws -> Void,
                onChange: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.configuration = configuration
        self.probe = probe
        self.onChange = onChange
    }

    /// Whether the breaker is open now.
    public var isOpen: Bool { state.withLock { $0.openReason != nil } }

    /// Appends waiting on the log now.
    public var waiting: Int { state.withLock { $0.waiting } }

    /// Admits a request (it must then call ``finish(succeeded:reason:)`` exactly once), or says why not.
    public func admit() -> Admission {
        let (admission, startProbe): (Admission, Bool) = state.withLock { s in
            if let reason = s.openReason {
                let due = s.lastProbe.map { ContinuousClock.now - $0 >= configuration.probeInterval } ?? true
                let start = due && !s.probing
                if start {
                    s.probing = true
                    s.lastProbe = .now
                }
                return (.open(reason: reason), start)
            }
            if s.waiting >= configuration.maxWaiting { return (.saturated, false) }
            s.waiting += 1
            return (.admitted, false)
        }
        if startProbe {
            Task { await self.runProbe() }
        }
        return admission
    }

    /// Ends an admitted request: a success closes the count of failures, a failure adds to it.
    public func finish(succeeded: Bool, reason: @autoclosure () -> String = "") {
        let opened: Bool = state.withLock { s in
            s.waiting -= 1
            if succeeded {
                s.consecutiveFailures = 0
                return false
            }
            s.consecutiveFailures += 1
            guard s.openReason == nil, s.consecutiveFailures >= configuration.failureThreshold else { return false }
            s.openReason = reason()
            s.lastProbe = .now
            return true
        }
        if opened { onChange(true) }
    }

    private func runProbe() async {
        let reachable: Bool
        do {
            try await withDeadline(configuration.probeTimeout) { try await self.probe() }
            reachable = true
        } catch {
            reachable = false
        }
        let closed: Bool = state.withLock { s in
            s.probing = false
            guard reachable, s.openReason != nil else { return false }
            s.openReason = nil
            s.consecutiveFailures = 0
            return true
        }
        if closed { onChange(false) }
    }
}

/// The deadline of an operation passed; it was cancelled.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "no answer within \(timeout)" }
}

/// Runs `operation`, cancelling it and throwing ``DeadlineExceeded`` when `timeout` passes first.
func withDeadline<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded(timeout: timeout) }
        return value
    }
}
