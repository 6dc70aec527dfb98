import DequeModule
import Logging
import NIOCore
import Synchronization

/// A bounded set of connections leased exclusively, one caller at a time.
///
/// At most `maximum` connections exist (open or connecting). Past that,
/// callers wait in strict FIFO order; a cancelled waiter leaves the queue
/// without taking a connection. Dead connections are dropped on release and
/// their slot goes to the next waiter, which reconnects with exponential
/// backoff. Thread-safe: state lives behind one `Mutex`, never held across
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

    private struct State {
        var idle: [Idle] = []
        var waiters: Deque<Waiter> = []
        var open = 0
        var nextWaiterID: UInt64 = 0
        var closed = false
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

    /// Leases a healthy connection; the caller must `release` it.
    func lease(for command: @autoclosure () -> String) async throws -> RedisConnection {
        while true {
            let action: Action = try state.withLock { s in
                if s.closed { throw RedisError.poolClosed(command: command()) }
                if let idle = s.idle.popLast() { return .use(idle) }
                if s.open < maximum {
                    s.open += 1
                    return .connect
                }
                return .wait
            }
            switch action {
            case .use(let idle):
                if let connection = await checked(idle) { return connection }
            case .connect:
                return try await connect()
            case .wait:
                switch try await waitForTurn(command: command()) {
                case .connection(let connection):
                    if connection.isActive { return connection }
                    slotFreed()
                case .connectSlot:
                    return try await connect()
                }
            }
        }
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

    private func waitForTurn(command: String) async throws -> Handoff {
        let id = state.withLock { s in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Handoff, any Error>) in
                let refused: (any Error)? = state.withLock { s in
                    if s.closed { return RedisError.poolClosed(command: command) }
                    if Task.isCancelled { return CancellationError() }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
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

    /// Connects within a held slot, retrying with exponential backoff until `reconnectTimeout`.
    private func connect() async throws -> RedisConnection {
        let giveUpAt = ContinuousClock.now + configuration.reconnectTimeout
        var delay = configuration.reconnectInitialBackoff
        var attempt = 1
        while true {
            do {
                let connection = try await RedisConnection.connect(configuration.connection, eventLoop: eventLoopGroup.any(), logger: logger)
                if attempt > 1 { logger.info("redis reconnected", metadata: ["attempts": "\(attempt)", "pool": "\(kind)"]) }
                return connection
            } catch {
                let permanent: Bool
                switch error {
                case RedisError.authenticationFailed, RedisError.server, is CancellationError: permanent = true
                default: permanent = false
                }
                if permanent || Task.isCancelled || ContinuousClock.now + delay > giveUpAt {
                    slotFreed()
                    throw error
                }
                logger.warning("redis connect failed; retrying", metadata: [
                    "error": "\(error)", "attempt": "\(attempt)", "retry_in": "\(delay)", "pool": "\(kind)",
                ])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    slotFreed()
                    throw error
                }
                delay = min(delay * 2, configuration.reconnectMaximumBackoff)
                attempt += 1
            }
        }
    }
}
