import TallyMetrics

/// The sampler's meta-metrics, under the names in `docs/metrics.md`:
/// `tally_sampling_probability`, `tally_sampler_events_seen_total`,
/// `tally_sampler_events_kept_total`, `tally_events_sampled_out_total` and
/// `tally_sampler_adjustments_total{direction}`.
///
/// One per registry (registering twice throws). Recording is lock-free.
public final class SamplerMetrics: Sendable {
    public let probability: Gauge
    public let seen: Counter
    public let kept: Counter
    public let sampledOut: Counter
    public let adjustedUp: Counter
    public let adjustedDown: Counter

    public init(registry: MetricsRegistry) throws {
        probability = try registry.register(Gauge.self, name: "tally_sampling_probability", help: "Current sampling probability (1 = every event kept).")
        probability.set(1)
        seen = try registry.register(Counter.self, name: "tally_sampler_events_seen_total", help: "Events offered to the sampler.")
        kept = try registry.register(Counter.self, name: "tally_sampler_events_kept_total", help: "Events the sampler kept, critical events included.")
        sampledOut = try registry.register(Counter.self, name: "tally_events_sampled_out_total", help: "Events dropped by sampling under overload.")
        let adjustments = try registry.registerFamily(Counter.self, name: "tally_sampler_adjustments_total", help: "Changes of the sampling probability, by direction.",
                                                      labelNames: ["direction"], maxSeries: 2)
        adjustedUp = adjustments.labels("up")
        adjustedDown = adjustments.labels("down")
    }
}
