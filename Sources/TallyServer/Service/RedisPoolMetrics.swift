import Synchronization
import TallyKit
import TallyMetrics
import TallyRedis

/// Tally's own Redis pool through the kit: `db_pool_*{pool="redis"}` for the
/// shared connections and `db_query_duration_seconds{pool="redis",query_type}`
/// / `db_query_errors_total` for every command Tally sends on them.
///
/// The query types are the commands Tally uses, lower case with `_` for a
/// subcommand (`xadd`, `evalsha`, `xinfo_groups`…); anything else is
/// `__overflow__`. A pipelined batch counts once, under its first command.
/// Blocking reads run on dedicated connections and are not reported (they
/// wait on purpose). The connection gauges are read from the pool at every
/// scrape. Lock-free on the command path.
public final class RedisPoolMetrics: RedisPoolObserver {
    /// Every command Tally's log, state, leader and health checks send.
    public static let commands = [
        "XADD", "XREADGROUP", "XACK", "XAUTOCLAIM", "XPENDING", "XINFO GROUPS", "XINFO STREAM", "XLEN", "XRANGE", "XTRIM", "XDEL",
        "XGROUP CREATE", "EVALSHA", "EVAL", "SCRIPT LOAD", "GET", "SET", "DEL", "EXISTS", "EXPIRE", "PEXPIRE", "PTTL", "INCRBY",
        "HGET", "HSET", "HDEL", "HGETALL", "HMGET", "HINCRBY", "HINCRBYFLOAT",
        "ZADD", "ZCARD", "ZMSCORE", "ZRANGE", "ZRANGEBYSCORE", "ZREM", "ZREMRANGEBYSCORE",
        "MULTI", "EXEC", "WATCH", "UNWATCH", "PING", "INFO", "CONFIG GET", "TIME",
    ]

    public let pool: DatabasePoolMetrics
    public let queries: DatabaseQueryMetrics
    /// Upper-case command name → its `query_type` value.
    let queryTypes: [String: String]

    /// - Parameter pool: the `pool` label: `redis`, or `redis@host:port` for one node of a cluster.
    public init(registry: MetricsRegistry, maxConnections: Int, pool poolLabel: String = "redis") throws {
        var types: [String: String] = [:]
        for command in Self.commands {
            types[command] = command.lowercased().replacingOccurrences(of: " ", with: "_")
        }
        self.queryTypes = types
        self.pool = try DatabasePoolMetrics(registry: registry, pool: poolLabel, maxConnections: maxConnections)
        self.queries = try DatabaseQueryMetrics(registry: registry, pool: poolLabel, queryTypes: Self.commands.map { types[$0]! })
    }

    /// A pool whose connections and commands are recorded into `registry` (as `db_pool_*` and
    /// `db_query_*{pool="redis"}`), with the figures read before every render.
    public static func instrumentedPool(
        _ configuration: RedisPoolConfiguration, registry: MetricsRegistry
    ) throws -> (pool: RedisConnectionPool, metrics: RedisPoolMetrics) {
        let metrics = try RedisPoolMetrics(registry: registry, maxConnections: configuration.maximumConnections)
        let pool = RedisConnectionPool(configuration: configuration, observer: metrics)
        metrics.collect(from: pool, registry: registry)
        return (pool, metrics)
    }

    /// A cluster client whose node pools are each recorded under `pool="redis@host:port"` (a label
    /// bounded by the cluster's size), with their connection figures read before every render.
    public static func instrumentedCluster(
        _ configuration: RedisClusterClient.Configuration, registry: MetricsRegistry
    ) -> RedisClusterClient {
        var configuration = configuration
        let perNode = NodeMetrics()
        let maximum = configuration.maximumConnectionsPerNode
        configuration.nodeObserver = { node in
            perNode.metrics(for: node) { try? RedisPoolMetrics(registry: registry, maxConnections: maximum, pool: "redis@" + node) }
        }
        let client = RedisClusterClient(configuration: configuration)
        registry.addCollectHook {
            for (node, pool) in client.nodePools {
                guard let metrics = perNode.existing(node) else { continue }
                let statistics = pool.statistics
                metrics.pool.setConnections(active: statistics.leased, idle: statistics.idle, waiting: statistics.waiting)
            }
        }
        return client
    }

    /// One ``RedisPoolMetrics`` per cluster node, made once.
    final class NodeMetrics: Sendable {
        private let byNode = Mutex<[String: RedisPoolMetrics]>([:])

        func metrics(for node: String, make: () -> RedisPoolMetrics?) -> RedisPoolMetrics? {
            byNode.withLock { all in
                if let existing = all[node] { return existing }
                let made = make()
                all[node] = made
                return made
            }
        }

        func existing(_ node: String) -> RedisPoolMetrics? { byNode.withLock { $0[node] } }
    }

    /// Reads the pool's connection figures before every render.
    public func collect(from client: RedisConnectionPool, registry: MetricsRegistry) {
        registry.addCollectHook { [pool] in
            let statistics = client.statistics
            pool.setConnections(active: statistics.leased, idle: statistics.idle, waiting: statistics.waiting)
        }
    }

    public func connectionLeased(waited: Duration) {
        pool.recordAcquire(waited)
    }

    public func connectionLeaseFailed(waited: Duration, error: any Error) {
        if !(error is CancellationError) { pool.recordAcquireTimeout() }
    }

    public func commandFinished(_ name: String, duration: Duration, failed: Bool) {
        queries.record(queryTypes[name] ?? KitLabels.overflow, duration: duration, failed: failed)
    }
}
