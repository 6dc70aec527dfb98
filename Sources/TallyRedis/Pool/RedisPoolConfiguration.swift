/// Sizing and recovery settings of a `RedisConnectionPool`.
///
/// The pool never opens more than `maximumConnections` shared connections
/// plus `maximumBlockingConnections` dedicated ones; callers past the bound
/// wait in FIFO order.
public struct RedisPoolConfiguration: Sendable {
    /// How each connection connects, authenticates and times out.
    public var connection: RedisConfiguration
    /// Bound on connections used for ordinary commands, transactions and scripts.
    public var maximumConnections: Int
    /// Bound on dedicated connections for blocking commands (`XREADGROUP … BLOCK`).
    public var maximumBlockingConnections: Int
    /// An idle connection unused for longer than this is checked with `PING` before it is handed out.
    public var healthCheckInterval: Duration
    /// First delay between reconnection attempts after a failed connect; doubles each time.
    public var reconnectInitialBackoff: Duration
    /// Upper bound of the reconnection delay.
    public var reconnectMaximumBackoff: Duration
    /// How long a caller keeps retrying to connect (server restarting) before the connect error is thrown.
    public var reconnectTimeout: Duration

    public init(
        connection: RedisConfiguration,
        maximumConnections: Int = 8,
        maximumBlockingConnections: Int = 8,
        healthCheckInterval: Duration = .seconds(30),
        reconnectInitialBackoff: Duration = .milliseconds(50),
        reconnectMaximumBackoff: Duration = .seconds(2),
        reconnectTimeout: Duration = .seconds(10)
    ) {
        precondition(maximumConnections > 0 && maximumBlockingConnections > 0, "a pool needs at least one connection of each kind")
        self.connection = connection
        self.maximumConnections = maximumConnections
        self.maximumBlockingConnections = maximumBlockingConnections
        self.healthCheckInterval = healthCheckInterval
        self.reconnectInitialBackoff = reconnectInitialBackoff
        self.reconnectMaximumBackoff = reconnectMaximumBackoff
        self.reconnectTimeout = reconnectTimeout
    }
}
