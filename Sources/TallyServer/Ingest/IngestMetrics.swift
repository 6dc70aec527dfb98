import TallyMetrics
import TallyPipeline

/// The ingest front door's own figures: requests turned away because the log was
/// unreachable or saturated, idempotent replays and conflicts, the breaker's state.
final class IngestMetrics: Sendable {
    /// Why a request got 503.
    enum Refusal: String, CaseIterable {
        /// The breaker was open: answered at once.
        case breakerOpen = "breaker_open"
        /// Too many appends were already waiting on the log.
        case saturated
        /// The log failed before anything was sent (or refused the batch): nothing stored.
        case logError = "log_error"
        /// The append's outcome is unknown (timed out or the connection broke after sending).
        case outcomeUnknown = "outcome_unknown"
    }

    let unavailable: MetricFamily<Counter>
    let replayed: Counter
    let conflicts: Counter
    let breakerOpen: Gauge
    /// The log's retry-safety records (global): keys and ids remembered, keys evicted early.
    let idempotencyKeys: Gauge
    let idempotencyKeysEvicted: MirroredCounter
    let dedupeIDs: Gauge

    init(registry: MetricsRegistry) throws {
        unavailable = try registry.family(Counter.self, name: "tally_ingest_unavailable_total",
                                          help: "Ingest requests answered 503 because the event log was unreachable or saturated, by reason.",
                                          labelNames: ["reason"], options: NoOptions(), maxSeries: Refusal.allCases.count)
        replayed = try registry.register(Counter.self, name: "tally_ingest_idempotent_replays_total",
                                         help: "Requests whose Idempotency-Key was already recorded with the same body: answered again, nothing stored.")
        conflicts = try registry.register(Counter.self, name: "tally_ingest_idempotency_conflicts_total",
                                          help: "Requests whose Idempotency-Key was already recorded with another body: answered 422, nothing stored.")
        breakerOpen = try registry.register(Gauge.self, name: "tally_ingest_log_breaker_open",
                                            help: "1 while this node's ingest breaker is open (the event log failed repeatedly; requests get 503 at once), else 0.")
        breakerOpen.set(0)
        idempotencyKeys = try registry.register(Gauge.self, name: "tally_idempotency_keys",
                                                help: "Idempotency keys the event log remembers now, within their window (global).")
        idempotencyKeysEvicted = try registry.register(MirroredCounter.self, name: "tally_idempotency_keys_evicted_total",
                                                       help: "Idempotency keys forgotten before their window ended because the key bound was reached (global).",
                                                       options: NoOptions())
        dedupeIDs = try registry.register(Gauge.self, name: "tally_dedupe_ids",
                                          help: "Client event ids the event log remembers now for dedupe (global).")
        // Unknown until the first read of the log (a restarted node must not report 0).
        idempotencyKeys.set(.nan)
        dedupeIDs.set(.nan)
    }

    func update(from figures: AppendRecordFigures) {
        idempotencyKeys.set(Double(figures.idempotencyKeys))
        idempotencyKeysEvicted.set(Double(figures.idempotencyKeysEvicted))
        dedupeIDs.set(Double(figures.dedupeIDs))
    }

    func refused(_ reason: Refusal) {
        unavailable.labels(reason.rawValue).increment()
    }
}
