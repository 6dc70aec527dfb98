import DequeModule
import Logging
import NIOCore
import Synchronization

/// A bounded set of connections leased exclusively, one caller at a time.
///
/// At most `maximum` connections exist (open or connecting). Past that,
/// callers wait in strict FIFO order, each until its lease deadline; a
/// cancelled or timed-out waiter leaves the queue without taking a
/// connection. Dead connections are dropped on release and their slot goes
/// to the next waiter. A failed connect marks the server down: callers fail
/// fast during an exponential backoff, then one of them tries again. Thread-safe: state lives behind one `Mutex`, never held across
/// an `await`.
final class ConnectionSlots: Sendable {
    private enum Handoff: Sendable {
        case connection(RedisConnection)
        case connectSlot
    }

    private struct Idle {
        let connection: RedisConnection
        let since: ContinuousClock.Instant
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Handoff, any Error>
    }

    /// The server's last connect failed: callers needing a new connection fail fast until `until`.
    private struct Outage {
        var until: ContinuousClock.Instant
        var reason: String
        var backoff: Duration
        /// One caller is trying to connect again; the others keep failing fast meanwhile.
        var probing: Bool
    }

    private struct State {
        var idle: [Idle] = []
        var waiters: Deque<Waiter> = []
        var open = 0
        var nextWaiterID: UInt64 = 0
        var closed = false
        var outage: Outage?
    }

    private enum Action {
        case use(Idle)
        case connect
        case wait
    }

    private let state = Mutex(State())
    private let maximum: Int
    private let configuration: RedisPoolConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let kind: String

    init(kind: String, maximum: Int, configuration: RedisPoolConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.kind = kind
        self.maximum = maximum
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Leases a healthy connection within the configured `leaseTimeout`; the caller must `release` it.
    ///
    /// Fails fast, without sending anything: `leaseTimedOut` when no connection could be had in time,
    /// `serverUnavailable` while the server counts as down (one caller at a time probes it again once
    /// the backoff has passed), the connect error itself when that probe fails.
    func lease(for command: @autoclosure () -> String) async throws -> RedisConnection {
        let deadline = ContinuousClock.now + configuration.leaseTimeout
        while true {
            let action: Action = try state.withLock { s in
                if s.closed { throw RedisError.poolClosed(command: command()) }
                if let idle = s.idle.popLast() { return .use(idle) }
                if s.open < maximum {
                    try self.claimConnectAttempt(&s)
                    s.open += 1
                    return .connect
                }
                return .wait
            }
            switch action {
            case .use(let idle):
                if let connection = await checked(idle) { return connection }
            case .connect:
                return try await connect(deadline: deadline)
            case .wait:
                switch try await waitForTurn(command: command(), deadline: deadline) {
                case .connection(let connection):
                    if connection.isActive { return connection }
                    slotFreed()
                case .connectSlot:
                    do {
                        try state.withLock { s in try self.claimConnectAttempt(&s) }
                    } catch {
                        slotFreed()
                        throw error
                    }
                    return try await connect(deadline: deadline)
                }
            }
        }
    }

    /// Throws `serverUnavailable` while the server counts as down and it is not this caller's turn
    /// to try it again; otherwise lets the caller connect (as the one probe after an outage).
    private func claimConnectAttempt(_ s: inout State) throws {
        guard var outage = s.outage else { return }
        let now = ContinuousClock.now
        if outage.probing || now < outage.until {
            throw RedisError.serverUnavailable(endpoint: configuration.connection.endpoint.description, reason: outage.reason,
                                               retryIn: outage.probing ? .zero : outage.until - now)
        }
        outage.probing = true
        s.outage = outage
    }

    /// Returns a leased connection: to the next waiter, to the idle set, or closes it when dead or the pool is closed.
    func release(_ connection: RedisConnection) {
        let (waiter, handoff, closeIt): (CheckedContinuation<Handoff, any Error>?, Handoff, Bool) = state.withLock { s in
            if s.closed {
                s.open -= 1
                return (nil, .connectSlot, true)
            }
            guard connection.isActive else {
                s.open -= 1
                if let waiter = s.waiters.popFirst() {
                    s.open += 1
                    return (waiter.continuation, .connectSlot, false)
                }
                return (nil, .connectSlot, false)
            }
            if let waiter = s.waiters.popFirst() {
                return (waiter.continuation, .connection(connection), false)
            }
            s.idle.append(Idle(connection: connection, since: .now))
            return (nil, .connectSlot, false)
        }
        waiter?.resume(returning: handoff)
        if closeIt { Task { await connection.close() } }
    }

    /// Closes idle connections and fails every waiter; leased connections close when released.
    func close() async {
        let (idle, waiters) = state.withLock { s in
            s.closed = true
            let idle = s.idle
            s.open -= idle.count
            s.idle.removeAll()
            let waiters = s.waiters
            s.waiters.removeAll()
            return (idle, waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: RedisError.poolClosed(command: "lease")) }
        for entry in idle { await entry.connection.close() }
    }

    /// Callers currently waiting for a connection (for tests and diagnostics).
    var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Open, idle and waiting counts, read together.
    var statistics: RedisPoolStatistics {
        state.withLock { RedisPoolStatistics(open: $0.open, idle: $0.idle.count, waiting: $0.waiters.count, maximum: maximum) }
    }

    // MARK: internals

    /// An idle connection if still alive (and answering PING when it sat idle long); otherwise drops it.
    private func checked(_ idle: Idle) async -> RedisConnection? {
        guard idle.connection.isActive else {
            slotFreed()
            return nil
        }
        guard ContinuousClock.now - idle.since > configuration.healthCheckInterval else { return idle.connection }
        do {
            _ = try await idle.connection.send(RedisCommand("PING"), timeout: configuration.connection.connectTimeout)
            return idle.connection
        } catch {
            logger.info("redis idle connection failed its health check; replacing it", metadata: ["error": "\(error)"])
            await idle.connection.close()
            slotFreed()
            return nil
        }
    }

    private func waitForTurn(command: String, deadline: ContinuousClock.Instant) async throws -> Handoff {
        let id = state.withLock { s in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let waited = configuration.leaseTimeout
        // Gives up on the caller's behalf at the lease deadline (cancelled as soon as it is served).
        let timer = Task { [self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            removeWaiter(id)?.continuation.resume(throwing: RedisError.leaseTimedOut(command: command, waited: waited))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Handoff, any Error>) in
                let refused: (any Error)? = state.withLock { s in
                    if s.closed { return RedisError.poolClosed(command: command) }
                    if Task.isCancelled { return CancellationError() }
                    if ContinuousClock.now >= deadline { return RedisError.leaseTimedOut(command: command, waited: waited) }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) }
            }
        } onCancel: {
            removeWaiter(id)?.continuation.resume(throwing: CancellationError())
        }
    }

    private func removeWaiter(_ id: UInt64) -> Waiter? {
        state.withLock { s -> Waiter? in
            guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: index)
        }
    }

    /// A slot was given up: hand it to the next waiter as a right to connect.
    private func slotFreed() {
        let waiter = state.withLock { s -> Waiter? in
            s.open -= 1
            guard !s.closed, let waiter = s.waiters.popFirst() else { return nil }
            s.open += 1
            return waiter
        }
        waiter?.continuation.resume(returning: .connectSlot)
    }

    /// Connects once within a held slot. The attempt runs on its own, bounded by the connect
    /// timeout: a caller whose lease deadline passes first gets `leaseTimedOut`, and the
    /// connection, when it opens, goes to the pool (or its slot is freed when it fails).
    /// A failure marks the server down for a backoff that doubles with each further
    /// failure; a success clears it.
    private func connect(deadline: ContinuousClock.Instant) async throws -> RedisConnection {
        let attempt = Task { try await self.openConnection() }
        let outcome = await DeadlineRace.value(of: attempt, before: deadline)
        switch outcome {
        case .finished(.success(let connection)):
            return connection
        case .finished(.failure(let error)):
            slotFreed()
            throw error
        case .deadlinePassed:
            Task {
                switch await attempt.result {
                case .success(let connection): self.release(connection)
                case .failure: self.slotFreed()
                }
            }
            throw RedisError.leaseTimedOut(command: "connect", waited: configuration.leaseTimeout)
        }
    }

    /// One connect attempt; records the server as down (with backoff) or up again.
    private func openConnection() async throws -> RedisConnection {
        do {
            let opened = try await RedisConnection.connect(configuration.connection, eventLoop: eventLoopGroup.any(), logger: logger)
            let recovered = state.withLock { s in
                defer { s.outage = nil }
                return s.outage != nil
            }
            if recovered { logger.info("redis reachable again", metadata: ["pool": "\(kind)"]) }
            return opened
        } catch {
            let (backoff, first) = state.withLock { s in
                let backoff = s.outage.map { min($0.backoff * 2, configuration.reconnectMaximumBackoff) } ?? configuration.reconnectInitialBackoff
                let first = s.outage == nil
                s.outage = Outage(until: .now + backoff, reason: "\(error)", backoff: backoff, probing: false)
                return (backoff, first)
            }
            if first {
                logger.warning("redis connect failed; failing fast and retrying with backoff", metadata: [
                    "error": "\(error)", "retry_in": "\(backoff)", "pool": "\(kind)",
                ])
            }
            throw error
        }
    }
}
