import TallyCore
import TallyMetrics

/// A connection pool's figures, under the names in `docs/metrics.md`:
/// `db_pool_connections{pool,state}`, `db_pool_max_connections{pool}`,
/// `db_pool_waiting_requests{pool}`, `db_pool_acquire_duration_seconds{pool}`
/// and `db_pool_acquire_timeouts_total{pool}`.
///
/// Every pool of a registry shares the families (at most
/// ``KitLabels/maxNamedInstances`` pools); the series are resolved once, so
/// recording is lock-free and allocation-free.
public struct DatabasePoolMetrics: Sendable {
    public let pool: String
    public let active: Gauge
    public let idle: Gauge
    public let maxConnections: Gauge
    public let waiting: Gauge
    public let acquireDuration: Histogram
    public let acquireTimeouts: Counter

    public init(registry: MetricsRegistry, pool: String, maxConnections: Int) throws {
        let cap = KitLabels.maxNamedInstances
        self.pool = pool
        let connections = try registry.family(Gauge.self, name: "db_pool_connections", help: "Connections of a pool by state.",
                                              labelNames: ["pool", "state"], options: NoOptions(), maxSeries: 2 * cap)
        active = connections.labels(pool, "active")
        idle = connections.labels(pool, "idle")
        self.maxConnections = try registry.family(Gauge.self, name: "db_pool_max_connections", help: "Size limit of a pool.",
                                                  labelNames: ["pool"], options: NoOptions(), maxSeries: cap).labels(pool)
        waiting = try registry.family(Gauge.self, name: "db_pool_waiting_requests", help: "Callers waiting for a connection.",
                                      labelNames: ["pool"], options: NoOptions(), maxSeries: cap).labels(pool)
        acquireDuration = try registry.family(Histogram.self, name: "db_pool_acquire_duration_seconds", help: "Time to get a connection from a pool.",
                                              labelNames: ["pool"], options: KitBuckets.fastSeconds, maxSeries: cap).labels(pool)
        acquireTimeouts = try registry.family(Counter.self, name: "db_pool_acquire_timeouts_total", help: "Connection acquisitions that gave up.",
                                              labelNames: ["pool"], options: NoOptions(), maxSeries: cap).labels(pool)
        self.maxConnections.set(Double(maxConnections))
    }

    /// Sets the connection gauges (from the pool's own figures).
    public func setConnections(active: Int, idle: Int, waiting: Int) {
        self.active.set(Double(active))
        self.idle.set(Double(idle))
        self.waiting.set(Double(waiting))
    }

    /// Records one successful acquisition.
    public func recordAcquire(_ duration: Duration) {
        acquireDuration.observe(duration.secondsValue)
    }

    /// Records an acquisition that gave up.
    public func recordAcquireTimeout() {
        acquireTimeouts.increment()
    }
}
