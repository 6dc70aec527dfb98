import TallyMetrics

/// A bounded buffer's meta-metrics, under the names in `docs/metrics.md`:
/// `tally_buffer_events{buffer}`, `tally_buffer_capacity_events{buffer}`,
/// `tally_buffer_appended_total{buffer}`, `tally_buffer_dropped_total{buffer}` and
/// `tally_buffer_flush_duration_seconds{buffer}`.
///
/// Several buffers share the families (one series each, at most
/// ``KitLabels/maxNamedInstances`` names). Recording is lock-free.
public struct BufferMetrics: Sendable {
    public let events: Gauge
    public let capacity: Gauge
    public let appended: Counter
    public let dropped: Counter
    public let flushDuration: Histogram

    public static let flushBuckets = try! HistogramBuckets([0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5])

    public init(registry: MetricsRegistry, buffer: String) throws {
        let cap = KitLabels.maxNamedInstances
        events = try registry.family(Gauge.self, name: "tally_buffer_events", help: "Events waiting in a bounded buffer.",
                                     labelNames: ["buffer"], options: NoOptions(), maxSeries: cap).labels(buffer)
        capacity = try registry.family(Gauge.self, name: "tally_buffer_capacity_events", help: "Capacity of a bounded buffer, in events.",
                                       labelNames: ["buffer"], options: NoOptions(), maxSeries: cap).labels(buffer)
        appended = try registry.family(Counter.self, name: "tally_buffer_appended_total", help: "Events appended to a bounded buffer (dropped ones included).",
                                       labelNames: ["buffer"], options: NoOptions(), maxSeries: cap).labels(buffer)
        dropped = try registry.family(Counter.self, name: "tally_buffer_dropped_total", help: "Events dropped because a bounded buffer was full (oldest first).",
                                      labelNames: ["buffer"], options: NoOptions(), maxSeries: cap).labels(buffer)
        flushDuration = try registry.family(Histogram.self, name: "tally_buffer_flush_duration_seconds", help: "Duration of one flush of a bounded buffer.",
                                            labelNames: ["buffer"], options: Self.flushBuckets, maxSeries: cap).labels(buffer)
    }
}
