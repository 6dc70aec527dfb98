import TallyCore
import TallyMetrics

/// Query durations and errors by declared query type:
/// `db_query_duration_seconds{pool,query_type}` and
/// `db_query_errors_total{pool,query_type}`.
///
/// The query types are declared up front (`select`, `insert`, `xadd`, …); any
/// other type is recorded under `__overflow__`, so a query text or a client
/// value can never become a label. Series are resolved at init: recording is
/// a dictionary lookup and lock-free updates.
public struct DatabaseQueryMetrics: Sendable {
    public let pool: String
    public let queryTypes: DeclaredLabelValues
    let series: [String: (duration: Histogram, errors: Counter)]
    let overflow: (duration: Histogram, errors: Counter)

    public init(registry: MetricsRegistry, pool: String, queryTypes: [String]) throws {
        self.pool = pool
        self.queryTypes = DeclaredLabelValues(queryTypes)
        let durations = try registry.family(Histogram.self, name: "db_query_duration_seconds", help: "Duration of one query or command, by declared query type.",
                                            labelNames: ["pool", "query_type"], options: KitBuckets.fastSeconds, maxSeries: MetricsRegistry.defaultMaxSeries)
        let errors = try registry.family(Counter.self, name: "db_query_errors_total", help: "Failed queries or commands, by declared query type.",
                                         labelNames: ["pool", "query_type"], options: NoOptions(), maxSeries: MetricsRegistry.defaultMaxSeries)
        var series: [String: (duration: Histogram, errors: Counter)] = [:]
        for type in self.queryTypes.valuesWithOverflow {
            series[type] = (durations.labels(pool, type), errors.labels(pool, type))
        }
        self.overflow = series[KitLabels.overflow]!
        self.series = series
    }

    /// Records one query of `type`; a failed one also counts as an error.
    public func record(_ type: String, duration: Duration, failed: Bool = false) {
        record(type, seconds: duration.secondsValue, failed: failed)
    }

    /// Records one query of `type` that took `seconds`.
    public func record(_ type: String, seconds: Double, failed: Bool = false) {
        let entry = series[type] ?? overflow
        entry.duration.observe(seconds)
        if failed { entry.errors.increment() }
    }

    /// Runs `body`, recording its duration under `type` (and an error when it throws).
    public func time<T>(_ type: String, _ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        do {
            let result = try await body()
            record(type, duration: ContinuousClock.now - started)
            return result
        } catch {
            record(type, duration: ContinuousClock.now - started, failed: true)
            throw error
        }
    }
}
