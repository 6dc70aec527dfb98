import Logging
import NIOCore
import NIOPosix

/// A bounded pool of Redis connections: the client a service normally holds.
///
/// Ordinary commands lease a shared connection for one round trip; blocking
/// commands (`sendBlocking`, `xreadgroup` with `block`) run on a separate set
/// of dedicated connections so they never hold a shared one. Waiting is
/// FIFO-fair and bounded by a lease deadline; a server that is down is
/// reported at once (`serverUnavailable`) while one caller at a time probes
/// it with backoff; a cancelled caller sends nothing and never leaves a
/// connection out of step with its replies.
/// Thread-safe (`Sendable`). An optional ``RedisPoolObserver`` hears about
/// leases and commands on the shared connections.
public final class RedisConnectionPool: ClosableRedisClient {
    public let configuration: RedisPoolConfiguration
    public let observer: (any RedisPoolObserver)?
    private let shared: ConnectionSlots
    private let blocking: ConnectionSlots

    public init(
        configuration: RedisPoolConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "tally.redis"),
        observer: (any RedisPoolObserver)? = nil
    ) {
        self.configuration = configuration
        self.observer = observer
        self.shared = ConnectionSlots(kind: "shared", maximum: configuration.maximumConnections, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        self.blocking = ConnectionSlots(kind: "blocking", maximum: configuration.maximumBlockingConnections, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// A pool for `url` (see `RedisConfiguration(url:)`) with default settings otherwise.
    public convenience init(url: String, maximumConnections: Int = 8, leaseTimeout: Duration = .milliseconds(500),
                            logger: Logger = Logger(label: "tally.redis")) throws {
        let connection = try RedisConfiguration(url: url)
        self.init(configuration: try RedisPoolConfiguration(connection: connection, maximumConnections: maximumConnections, leaseTimeout: leaseTimeout),
                  logger: logger)
    }

    // MARK: RedisClient

    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await observed(command) { connection in try await connection.send(command) }
    }

    public func send(batch commands: [RedisCommand]) async throws -> [RESPValue] {
        guard let first = commands.first else { return [] }
        return try await observed(first) { connection in try await connection.send(batch: commands) }
    }

    /// Leases a shared connection, runs `body` on it and tells the observer how long each part took.
    private func observed<T: Sendable>(_ command: RedisCommand, _ body: (RedisConnection) async throws -> T) async throws -> T {
        guard let observer else {
            let connection = try await shared.lease(for: command.name)
            defer { shared.release(connection) }
            try Task.checkCancellation()
            return try await body(connection)
        }
        let leaseStarted = ContinuousClock.now
        let connection: RedisConnection
        do {
            connection = try await shared.lease(for: command.name)
        } catch {
            observer.connectionLeaseFailed(waited: ContinuousClock.now - leaseStarted, error: error)
            throw error
        }
        defer { shared.release(connection) }
        let started = ContinuousClock.now
        observer.connectionLeased(waited: started - leaseStarted)
        // A caller cancelled while it waited (its own deadline passed) must not send anything now.
        try Task.checkCancellation()
        do {
            let result = try await body(connection)
            observer.commandFinished(command.name, duration: ContinuousClock.now - started, failed: false)
            return result
        } catch {
            observer.commandFinished(command.name, duration: ContinuousClock.now - started, failed: true)
            throw error
        }
    }

    public func sendBlocking(_ command: RedisCommand, blockingFor: Duration) async throws -> RESPValue {
        try await withDedicatedConnection { connection in
            try await connection.sendBlocking(command, blockingFor: blockingFor)
        }
    }

    /// Reported to the observer under the command's name, like ``send(_:)``, the `WAIT` included.
    public func sendDurably(_ command: RedisCommand, replicas: Int, timeout: Duration) async throws -> (reply: RESPValue, replicas: Int) {
        try await observed(command) { try await $0.sendDurably(command, replicas: replicas, timeout: timeout) }
    }

    /// Reported to the observer under its first command's name, like ``send(batch:)``.
    public func sendTransaction(_ commands: [RedisCommand], replicas: Int, timeout: Duration) async throws -> (replies: [RESPValue], replicas: Int) {
        guard let first = commands.first else { return ([], 0) }
        return try await observed(first) { try await $0.sendTransaction(commands, replicas: replicas, timeout: timeout) }
    }

    // MARK: leases

    /// Runs `body` with a shared connection leased exclusively (for `WATCH`/`MULTI`/`EXEC`
    /// or a sequence that must share a connection). Do not run blocking commands on it.
    /// Its lease is reported to the observer; the commands run on it are not.
    public func withConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let leaseStarted = ContinuousClock.now
        let connection: RedisConnection
        do {
            connection = try await shared.lease(for: "lease")
        } catch {
            observer?.connectionLeaseFailed(waited: ContinuousClock.now - leaseStarted, error: error)
            throw error
        }
        observer?.connectionLeased(waited: ContinuousClock.now - leaseStarted)
        defer { shared.release(connection) }
        try Task.checkCancellation()
        return try await body(connection)
    }

    /// Runs `body` with a dedicated connection for blocking commands. If `body`
    /// is cancelled or fails with the connection still busy, the connection is
    /// closed rather than reused, since a blocked reply may arrive much later.
    public func withDedicatedConnection<T: Sendable>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        let connection = try await blocking.lease(for: "dedicated lease")
        do {
            let result = try await body(connection)
            blocking.release(connection)
            return result
        } catch {
            if error is CancellationError || Task.isCancelled {
                await connection.close()
            }
            blocking.release(connection)
            throw error
        }
    }

    /// Callers waiting for a shared connection right now.
    public var waitingForConnection: Int { shared.waiterCount }

    /// The shared connections now: open, idle, waiting callers and the bound.
    public var statistics: RedisPoolStatistics { shared.statistics }

    /// Closes every idle connection and refuses new leases; leased connections close when returned.
    public func close() async {
        await shared.close()
        await blocking.close()
    }
}
