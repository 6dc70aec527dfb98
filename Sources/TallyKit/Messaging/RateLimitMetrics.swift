import TallyMetrics

/// One rate limiter: `rate_limit_hits_total{limiter}` (requests refused) and
/// `rate_limited_clients{limiter}` (distinct clients limited now, a number the
/// limiter knows). Clients are never a label. Limiters share the families (at
/// most ``KitLabels/maxNamedInstances``). Lock-free.
public struct RateLimitMetrics: Sendable {
    public let limiter: String
    let hits: Counter
    let limitedClients: Gauge

    public init(registry: MetricsRegistry, limiter: String) throws {
        let cap = KitLabels.maxNamedInstances
        self.limiter = limiter
        hits = try registry.family(Counter.self, name: "rate_limit_hits_total", help: "Requests refused by a rate limiter.",
                                   labelNames: ["limiter"], options: NoOptions(), maxSeries: cap).labels(limiter)
        limitedClients = try registry.family(Gauge.self, name: "rate_limited_clients", help: "Distinct clients a rate limiter limits now.",
                                             labelNames: ["limiter"], options: NoOptions(), maxSeries: cap).labels(limiter)
    }

    /// One refused request.
    public func recordHit() {
        hits.increment()
    }

    /// How many distinct clients are limited now.
    public func setLimitedClients(_ count: Int) {
        limitedClients.set(Double(count))
    }
}
