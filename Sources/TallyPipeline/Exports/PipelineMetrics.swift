import TallyKit
import TallyMetrics

/// This process's pipeline figures, registered in a ``MetricsRegistry`` under
/// the architecture's names (`tally_events_processed_total{type}`, …).
///
/// Recording is lock-free (the core's counters); safe to share between workers.
/// Registration throws if the names are already taken with another definition.
public final class PipelineMetrics: Sendable {
    public let ingested: MetricFamily<Counter>
    public let processed: MetricFamily<Counter>
    public let retried: Counter
    public let reclaimed: Counter
    public let deadLettered: Counter
    /// The sampler's meta-metrics (give them to the ingest ``AdaptiveSampler``).
    public let sampler: SamplerMetrics
    public var sampledOut: Counter { sampler.sampledOut }
    public var samplingProbability: Gauge { sampler.probability }
    public let ownershipLost: Counter
    /// Events acknowledged at ingest but not stored again: their client id was appended within the dedupe window.
    public let deduplicated: Counter
    /// The log as a queue (`queue="events"`): enqueued at ingest, consumed and waited by the workers;
    /// depth and oldest age are set by whoever reads the log's figures.
    public let queue: QueueMetrics
    public let batchDuration: Histogram
    public let workersRunning: Gauge
    /// `tally_commit_failures_total{kind}`: failed commits, `poison` (traced to an entry that was
    /// then dead-lettered) or `systemic` (everything else). Both series exist from the start at 0.
    public let commitFailures: MetricFamily<Counter>
    let poisonCommitFailures: Counter
    let systemicCommitFailures: Counter

    /// The series of `tally_commit_failures_total` for `kind`.
    public func commitFailureCounter(_ kind: CommitFailureKind) -> Counter {
        kind == .poison ? poisonCommitFailures : systemicCommitFailures
    }

    public init(registry: MetricsRegistry) throws {
        let typeCount = EventType.allCases.count
        ingested = try registry.family(Counter.self, name: "tally_events_ingested_total", help: "Events accepted by this process's ingest, by type.",
                                       labelNames: ["type"], options: NoOptions(), maxSeries: typeCount)
        processed = try registry.family(Counter.self, name: "tally_events_processed_total", help: "Events applied to the shared state by this process's workers, by type.",
                                        labelNames: ["type"], options: NoOptions(), maxSeries: typeCount)
        retried = try registry.register(Counter.self, name: "tally_events_retried_total", help: "Entries that failed processing and were left pending for another delivery.")
        reclaimed = try registry.register(Counter.self, name: "tally_events_reclaimed_total", help: "Idle pending entries claimed from other consumers (XAUTOCLAIM), deleted ones included.")
        deadLettered = try registry.register(Counter.self, name: "tally_events_dead_lettered_total", help: "Entries moved to the dead-letter stream by this process.")
        sampler = try SamplerMetrics(registry: registry)
        ownershipLost = try registry.register(Counter.self, name: "tally_events_ownership_lost_total",
                                              help: "Entries this process's workers had read but another consumer claimed before the commit (applied by that consumer instead).")
        deduplicated = try registry.register(Counter.self, name: "tally_events_deduplicated_total",
                                             help: "Events acknowledged by this process's ingest but not stored again: their client id was appended within the dedupe window.")
        queue = try QueueMetrics(registry: registry, queue: "events")
        batchDuration = try registry.register(Histogram.self, name: "tally_worker_batch_duration_seconds", help: "Time to process and commit one batch.",
                                              options: try HistogramBuckets([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]))
        workersRunning = try registry.register(Gauge.self, name: "tally_workers_running", help: "Pipeline workers of this process currently running their read-process-commit loop.")
        commitFailures = try registry.family(Counter.self, name: "tally_commit_failures_total",
                                             help: "Failed commits of this process's workers: poison (traced to an entry that was then dead-lettered) or systemic (the server, the connection or the stored state; nothing dead-lettered).",
                                             labelNames: ["kind"], options: NoOptions(), maxSeries: CommitFailureKind.allCases.count)
        poisonCommitFailures = commitFailures.labels(CommitFailureKind.poison.rawValue)
        systemicCommitFailures = commitFailures.labels(CommitFailureKind.systemic.rawValue)
    }
}
