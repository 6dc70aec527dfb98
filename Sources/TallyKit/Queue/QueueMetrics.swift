import TallyMetrics

/// One queue: `queue_depth_messages`, `queue_oldest_message_age_seconds`,
/// `queue_message_wait_seconds`, `queue_enqueued_total` and
/// `queue_consumed_total`, all by `queue` (the consumer rate is `rate()` of
/// the consumed count). Queues share the families (at most
/// ``KitLabels/maxNamedInstances``). Lock-free.
public struct QueueMetrics: Sendable {
    public let queue: String
    public let depth: Gauge
    public let oldestAge: Gauge
    public let wait: Histogram
    public let enqueued: Counter
    public let consumed: Counter

    public init(registry: MetricsRegistry, queue: String) throws {
        let cap = KitLabels.maxNamedInstances
        self.queue = queue
        depth = try registry.family(Gauge.self, name: "queue_depth_messages", help: "Messages waiting in a queue.",
                                    labelNames: ["queue"], options: NoOptions(), maxSeries: cap).labels(queue)
        oldestAge = try registry.family(Gauge.self, name: "queue_oldest_message_age_seconds", help: "Age of the oldest message waiting in a queue.",
                                        labelNames: ["queue"], options: NoOptions(), maxSeries: cap).labels(queue)
        wait = try registry.family(Histogram.self, name: "queue_message_wait_seconds", help: "Time a message waited in a queue before processing.",
                                   labelNames: ["queue"], options: KitBuckets.waitSeconds, maxSeries: cap).labels(queue)
        enqueued = try registry.family(Counter.self, name: "queue_enqueued_total", help: "Messages added to a queue.",
                                       labelNames: ["queue"], options: NoOptions(), maxSeries: cap).labels(queue)
        consumed = try registry.family(Counter.self, name: "queue_consumed_total", help: "Messages processed from a queue.",
                                       labelNames: ["queue"], options: NoOptions(), maxSeries: cap).labels(queue)
    }

    public func recordEnqueued(_ count: Int = 1) {
        enqueued.increment(by: Int64(count))
    }

    public func recordConsumed(_ count: Int = 1) {
        consumed.increment(by: Int64(count))
    }

    /// One message waited `seconds` before it was processed.
    public func recordWait(seconds: Double) {
        wait.observe(max(0, seconds))
    }

    /// The queue's depth and the age of its oldest message (NaN when unknown, 0 when empty).
    public func setDepth(_ messages: Int, oldestAgeSeconds: Double?) {
        depth.set(Double(messages))
        oldestAge.set(messages == 0 ? 0 : (oldestAgeSeconds ?? .nan))
    }

    /// The queue cannot be read: depth and oldest age read NaN rather than their last numbers.
    public func markDepthUnknown() {
        depth.set(.nan)
        oldestAge.set(.nan)
    }
}
