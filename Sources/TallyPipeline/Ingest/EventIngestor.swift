import TallyRedis

/// The ingest side of the pipeline: validates a request body and appends the
/// whole batch to the log in one atomic step, with its retry-safety records.
///
/// All-or-nothing: a bad item throws ``EventBatchError`` (index, field,
/// message) and nothing is appended; a log failure is rethrown and nothing is
/// counted. With a sampler under overload, critical events are always kept, the others
/// are kept with their weight 1/p, and those dropped are counted in
/// `tally_events_sampled_out_total`, never dropped silently. Returns only once the log has the batch, so a caller that answers
/// 202 afterwards never loses an accepted event. An `Idempotency-Key` and the
/// events' client ids are checked and recorded by the log in the same step
/// (see ``AppendRequest``), so a retried batch is stored once across every node.
public struct EventIngestor: Sendable {
    public let log: any EventLogFront
    public let decoder: EventDecoder
    /// Sheds load under overload (nil keeps every event); its probability is exported.
    public let sampler: AdaptiveSampler?
    /// Whether the log deduplicates client event ids (its ``AppendPolicy/dedupeWindow`` is set).
    public let deduplicates: Bool
    let metrics: PipelineMetrics?

    public init(log: any EventLogFront, decoder: EventDecoder = EventDecoder(), sampler: AdaptiveSampler? = nil,
                deduplicates: Bool = false, metrics: PipelineMetrics? = nil) {
        self.log = log
        self.decoder = decoder
        self.sampler = sampler
        self.deduplicates = deduplicates
        self.metrics = metrics
    }

    /// What became of one request.
    public enum Outcome: Sendable, Hashable {
        /// The log has the batch: every event is acknowledged; `deduplicated` of them were
        /// already appended (within the dedupe window or earlier in the batch) and not stored again.
        case accepted(count: Int, deduplicated: Int)
        /// The key was used before with the same body: nothing was stored; answer as then.
        case replayed(acceptedCount: Int)
        /// The key was used before with another body: nothing was stored.
        case conflict(acceptedCount: Int)
    }

    /// Decodes `body` (one object, an array, or NDJSON) and appends it (or the sampled part of it);
    /// returns the events accepted.
    @discardableResult
    public func ingest(_ body: some Collection<UInt8>, format: EventDecoder.Format = .json) async throws -> [TelemetryEvent] {
        let (events, _) = try await self.ingest(body, format: format, idempotencyKey: nil)
        return events
    }

    /// Decodes `body`, then appends it with `idempotencyKey` (already scoped by the caller) and the
    /// events' client ids in one atomic step. Returns the decoded events and what the log did.
    public func ingest(_ body: some Collection<UInt8>, format: EventDecoder.Format, idempotencyKey: String?) async throws -> (events: [TelemetryEvent], outcome: Outcome) {
        let (events, clientIDs) = try decoder.decodeBatchMarkingClientIDs(body, format: format)
        guard !events.isEmpty else { return ([], .accepted(count: 0, deduplicated: 0)) }
        let (records, dropped) = sampler?.sample(events) ?? (events.map { EventRecord(event: $0) }, 0)
        var request = AppendRequest(records: records)
        if deduplicates {
            let given = Set(zip(events, clientIDs).lazy.filter { $0.1 }.map { $0.0.id })
            request.deduplicationIDs = records.map { given.contains($0.event.id) ? $0.event.id : nil }
            if dropped > 0 {
                let kept = Set(records.map(\.event.id))
                var unstored: [String: String] = [:]
                for event in events where given.contains(event.id) && !kept.contains(event.id) { unstored[event.id] = event.sessionID }
                request.acceptedUnstored = unstored.map { UnstoredEvent(id: $0.key, sessionID: $0.value) }.sorted { $0.id < $1.id }
            }
        }
        if let idempotencyKey {
            request.idempotency = IdempotencyClaim(key: idempotencyKey, fingerprint: Self.fingerprint(body, format: format),
                                                   acceptedCount: events.count)
        }
        let duplicates: [Int]
        if records.isEmpty && request.idempotency == nil && request.acceptedUnstored.isEmpty {
            duplicates = []
        } else {
            switch try await log.append(request) {
            case .replayed(let count):
                return (events, .replayed(acceptedCount: count))
            case .conflict(let count):
                return (events, .conflict(acceptedCount: count))
            case .appended(_, let left):
                duplicates = left
            }
        }
        sampler?.recordDecisions(kept: records.count - duplicates.count, sampledOut: dropped)
        if let metrics {
            metrics.queue.recordEnqueued(records.count - duplicates.count)
            // A sampler with its own meta-metrics has just counted the decisions itself.
            if sampler?.metrics == nil {
                metrics.sampledOut.increment(by: Int64(dropped))
                metrics.samplingProbability.set(sampler?.probability ?? 1)
            }
            var byType: [EventType: Int64] = [:]
            for event in events { byType[event.type, default: 0] += 1 }
            for position in duplicates { byType[records[position].event.type, default: 0] -= 1 }
            for (type, count) in byType where count > 0 { metrics.ingested.labels(type.rawValue).increment(by: count) }
            if !duplicates.isEmpty { metrics.deduplicated.increment(by: Int64(duplicates.count)) }
        }
        return (events, .accepted(count: events.count, deduplicated: duplicates.count))
    }

    /// A digest of the request as the client sent it (its format and bytes): a retry sends the same.
    static func fingerprint(_ body: some Collection<UInt8>, format: EventDecoder.Format) -> String {
        var bytes: [UInt8] = [format == .json ? UInt8(ascii: "j") : UInt8(ascii: "n")]
        bytes.append(contentsOf: body)
        return String(SHA1.hexDigest(bytes).prefix(32))
    }
}
