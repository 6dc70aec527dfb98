/// The ingest side of the pipeline: validates a request body and appends the
/// whole batch to the log in one atomic step.
///
/// All-or-nothing: a bad item throws ``EventBatchError`` (index, field,
/// message) and nothing is appended; a log failure is rethrown and nothing is
/// counted. With a sampler under overload, critical events are always kept, the others
/// are kept with their weight 1/p, and those dropped are counted in
/// `tally_events_sampled_out_total`, never dropped silently. Returns only once the log has the batch, so a caller that answers
/// 202 afterwards never loses an accepted event.
public struct EventIngestor: Sendable {
    public let log: any EventLog
    public let decoder: EventDecoder
    /// Sheds load under overload (nil keeps every event); its probability is exported.
    public let sampler: AdaptiveSampler?
    let metrics: PipelineMetrics?

    public init(log: any EventLog, decoder: EventDecoder = EventDecoder(), sampler: AdaptiveSampler? = nil, metrics: PipelineMetrics? = nil) {
        self.log = log
        self.decoder = decoder
        self.sampler = sampler
        self.metrics = metrics
    }

    /// Decodes `body` (one object, an array, or NDJSON) and appends it (or the sampled part of it);
    /// returns the events accepted.
    @discardableResult
    public func ingest(_ body: some Collection<UInt8>, format: EventDecoder.Format = .json) async throws -> [TelemetryEvent] {
        let events = try decoder.decodeBatch(body, format: format)
        guard !events.isEmpty else { return [] }
        let (records, dropped) = sampler?.sample(events) ?? (events.map { EventRecord(event: $0) }, 0)
        if !records.isEmpty { try await log.append(records) }
        sampler?.recordDecisions(kept: records.count, sampledOut: dropped)
        if let metrics {
            metrics.queue.recordEnqueued(records.count)
            // A sampler with its own meta-metrics has just counted the decisions itself.
            if sampler?.metrics == nil {
                metrics.sampledOut.increment(by: Int64(dropped))
                metrics.samplingProbability.set(sampler?.probability ?? 1)
            }
            var byType: [EventType: Int64] = [:]
            for event in events { byType[event.type, default: 0] += 1 }
            for (type, count) in byType { metrics.ingested.labels(type.rawValue).increment(by: count) }
        }
        return events
    }
}
