import TallyMetrics

/// Message searches by outcome: `message_searches_total{outcome}`
/// (`success`/`failure`), so a failure *ratio* can be alerted on. Lock-free.
public struct MessageSearchMetrics: Sendable {
    let succeeded: Counter
    let failed: Counter

    public init(registry: MetricsRegistry) throws {
        let family = try registry.registerFamily(Counter.self, name: "message_searches_total", help: "Message searches by outcome.",
                                                 labelNames: ["outcome"], maxSeries: 2)
        succeeded = family.labels("success")
        failed = family.labels("failure")
    }

    /// Records one search.
    public func recordSearch(success: Bool) {
        (success ? succeeded : failed).increment()
    }
}
