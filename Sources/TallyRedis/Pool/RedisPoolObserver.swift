/// What a ``RedisConnectionPool`` reports as it works, for a layer above that
/// records metrics (TallyRedis itself records nothing).
///
/// Called inline on the caller's task: implementations must be quick and must
/// not block (a few lock-free metric updates). Only the shared connections
/// are reported: blocking commands (`XREADGROUP … BLOCK`) wait on purpose and
/// would only blur the figures.
public protocol RedisPoolObserver: Sendable {
    /// A shared connection was leased after `waited`.
    func connectionLeased(waited: Duration)
    /// Leasing a shared connection failed after `waited` (pool closed, connect gave up, cancelled).
    func connectionLeaseFailed(waited: Duration, error: any Error)
    /// A command, or a pipelined batch under its first command's ``RedisCommand/name``,
    /// finished on a shared connection; `failed` when it threw.
    func commandFinished(_ name: String, duration: Duration, failed: Bool)
}

/// A snapshot of a pool's shared connections.
public struct RedisPoolStatistics: Sendable, Hashable {
    /// Connections open or connecting.
    public var open: Int
    /// Open connections not leased.
    public var idle: Int
    /// Callers waiting for a connection.
    public var waiting: Int
    /// The pool's bound on shared connections.
    public var maximum: Int

    /// Open connections leased to a caller.
    public var leased: Int { max(0, open - idle) }

    public init(open: Int, idle: Int, waiting: Int, maximum: Int) {
        self.open = open
        self.idle = idle
        self.waiting = waiting
        self.maximum = maximum
    }
}
