import TallyCore
import TallyMetrics

/// One cache's calls: `cache_operations_total{cache,operation,result}` and
/// `cache_operation_duration_seconds{cache,operation}`, with the hit ratio
/// computed from the counters.
///
/// Operations are `get` (result `hit`, `miss` or `error`), `set` and `delete`
/// (result `ok` or `error`); every series exists from the start. Caches share
/// the families (at most ``KitLabels/maxNamedInstances``). Lock-free.
public struct CacheMetrics: Sendable {
    /// A cache call.
    public enum Operation: String, Sendable, CaseIterable {
        case get, set, delete
    }

    public let cache: String
    let hits: Counter
    let misses: Counter
    let getErrors: Counter
    let setOK: Counter
    let setErrors: Counter
    let deleteOK: Counter
    let deleteErrors: Counter
    let durations: [Histogram]

    public init(registry: MetricsRegistry, cache: String) throws {
        let cap = KitLabels.maxNamedInstances
        self.cache = cache
        let operations = try registry.family(Counter.self, name: "cache_operations_total", help: "Cache calls by operation and result.",
                                             labelNames: ["cache", "operation", "result"], options: NoOptions(), maxSeries: 7 * cap)
        hits = operations.labels(cache, "get", "hit")
        misses = operations.labels(cache, "get", "miss")
        getErrors = operations.labels(cache, "get", "error")
        setOK = operations.labels(cache, "set", "ok")
        setErrors = operations.labels(cache, "set", "error")
        deleteOK = operations.labels(cache, "delete", "ok")
        deleteErrors = operations.labels(cache, "delete", "error")
        let durations = try registry.family(Histogram.self, name: "cache_operation_duration_seconds", help: "Duration of one cache call.",
                                            labelNames: ["cache", "operation"], options: KitBuckets.fastSeconds, maxSeries: 3 * cap)
        self.durations = Operation.allCases.map { durations.labels(cache, $0.rawValue) }
    }

    /// Records a `get`: `hit` true or false, or nil when it failed.
    public func recordGet(hit: Bool?, duration: Duration? = nil) {
        switch hit {
        case true?: hits.increment()
        case false?: misses.increment()
        case nil: getErrors.increment()
        }
        if let duration { durations[0].observe(duration.secondsValue) }
    }

    /// Records a `set`.
    public func recordSet(failed: Bool = false, duration: Duration? = nil) {
        (failed ? setErrors : setOK).increment()
        if let duration { durations[1].observe(duration.secondsValue) }
    }

    /// Records a `delete`.
    public func recordDelete(failed: Bool = false, duration: Duration? = nil) {
        (failed ? deleteErrors : deleteOK).increment()
        if let duration { durations[2].observe(duration.secondsValue) }
    }

    /// Hits / (hits + misses) since start; nil before the first hit or miss.
    public var hitRatio: Double? {
        let hits = self.hits.value
        let total = hits + misses.value
        return total == 0 ? nil : Double(hits) / Double(total)
    }
}
