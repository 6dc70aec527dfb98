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

    public init(registry: MetricsRegistry, maxConnections: Int) throws {
        var types: [String: String] = [:]
        for command in Self.commands {
            types[command] = command.lowercased().replacingOccurrences(of: " ", with: "_")
        }
        self.queryTypes = types
        self.pool = try DatabasePoolMetrics(registry: registry, pool: "redis", maxConnections: maxConnections)
        self.queries = try DatabaseQueryMetrics(registry: registry, pool: "redis", queryTypes: Self.commands.map { types[$0]! })
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
