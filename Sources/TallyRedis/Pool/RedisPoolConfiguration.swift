/// Sizing and recovery settings of a `RedisConnectionPool`.
///
/// The pool never opens more than `maximumConnections` shared connections
/// plus `maximumBlockingConnections` dedicated ones; callers past the bound
/// wait in FIFO order,
/// each for at most `leaseTimeout`.
public struct RedisPoolConfiguration: Sendable {
    /// How each connection connects, authenticates and times out.
    public var connection: RedisConfiguration
    /// Bound on connections used for ordinary commands, transactions and scripts.
    public var maximumConnections: Int
    /// Bound on dedicated connections for blocking commands (`XREADGROUP … BLOCK`).
    public var maximumBlockingConnections: Int
    /// An idle connection unused for longer than this is checked with `PING` before it is handed out.
    public var healthCheckInterval: Duration
    /// How long a caller may wait for a connection (a free slot, or connecting one) before
    /// it gets ``RedisError/leaseTimedOut(command:waited:)``. Keep it well under the caller's
    /// own deadline: a server that is down must be reported, not waited for.
    public var leaseTimeout: Duration
    /// After a failed connect the server counts as down for this long; the delay doubles
    /// with each further failure. While it is down, callers that need a new connection fail
    /// at once with ``RedisError/serverUnavailable(endpoint:reason:retryIn:)``, and only one
    /// caller at a time tries to connect again once the delay has passed.
    public var reconnectInitialBackoff: Duration
    /// Upper bound of the reconnection delay.
    public var reconnectMaximumBackoff: Duration

    public init(
        connection: RedisConfiguration,
        maximumConnections: Int = 8,
        maximumBlockingConnections: Int = 8,
        healthCheckInterval: Duration = .seconds(30),
        leaseTimeout: Duration = .milliseconds(500),
        reconnectInitialBackoff: Duration = .milliseconds(50),
        reconnectMaximumBackoff: Duration = .seconds(1)
    ) throws(InvalidValue) {
        guard maximumConnections >= 1 else { throw InvalidValue("maximumConnections must be at least 1, got \(maximumConnections)") }
        guard maximumBlockingConnections >= 1 else {
            throw InvalidValue("maximumBlockingConnections must be at least 1, got \(maximumBlockingConnections)")
        }
        guard healthCheckInterval >= .zero else { throw InvalidValue("healthCheckInterval must not be negative, got \(healthCheckInterval)") }
        guard leaseTimeout > .zero else { throw InvalidValue("leaseTimeout must be positive, got \(leaseTimeout)") }
        guard reconnectInitialBackoff > .zero, reconnectInitialBackoff <= reconnectMaximumBackoff else {
            throw InvalidValue("reconnect backoffs must satisfy 0 < initial ≤ maximum, got \(reconnectInitialBackoff) and \(reconnectMaximumBackoff)")
        }
        self.connection = connection
        self.maximumConnections = maximumConnections
        self.maximumBlockingConnections = maximumBlockingConnections
        self.healthCheckInterval = healthCheckInterval
        self.leaseTimeout = leaseTimeout
        self.reconnectInitialBackoff = reconnectInitialBackoff
        self.reconnectMaximumBackoff = reconnectMaximumBackoff
    }

    /// A value a pool cannot work with, named in the message.
    public struct InvalidValue: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String

        init(_ description: String) { self.description = description }
    }
}
