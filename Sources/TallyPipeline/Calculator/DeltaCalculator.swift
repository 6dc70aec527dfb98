/// Turns a batch of events into the ``StateDelta`` it causes.
///
/// Pure and stateless: the same records always give the same delta, whichever
/// worker computes it, so a retried batch is computed afresh and nothing
/// depends on what a worker saw before.
public enum DeltaCalculator {
    /// The delta of `records`, with window buckets `bucketSeconds` wide.
    public static func delta(for records: [EventRecord], bucketSeconds: Int) -> StateDelta {
        var delta = StateDelta()
        for record in records {
            add(record, bucketSeconds: bucketSeconds, to: &delta)
        }
        return delta
    }

    /// The start of the bucket holding `timestamp`.
    public static func bucketStart(of timestamp: Double, bucketSeconds: Int) -> Int {
        Int((timestamp / Double(bucketSeconds)).rounded(.down)) * bucketSeconds
    }

    static func add(_ record: EventRecord, bucketSeconds: Int, to delta: inout StateDelta) {
        let event = record.event
        let weight = record.weight
        delta.eventsByType[event.type, default: 0] += 1
        let bucket = bucketStart(of: event.timestamp, bucketSeconds: bucketSeconds)

        var session = delta.sessions[event.sessionID] ?? SessionDelta(firstSeen: event.timestamp, lastSeen: event.timestamp)
        session.firstSeen = min(session.firstSeen, event.timestamp)
        session.lastSeen = max(session.lastSeen, event.timestamp)

        switch event.type {
        case .completion:
            let latency = event.latencyMilliseconds ?? 0
            var window = delta.buckets[bucket] ?? WindowBucketDelta()
            window.completions += weight
            if event.accepted == true { window.accepted += weight }
            window.latency.add(latency / 1000, weight: weight)
            delta.buckets[bucket] = window
        case .toolCall:
            let tool = event.tool ?? ""
            let outcome = event.success == true ? OutcomeCounts(success: weight) : OutcomeCounts(failure: weight)
            var window = delta.buckets[bucket] ?? WindowBucketDelta()
            window.toolCalls[tool] = (window.toolCalls[tool] ?? OutcomeCounts()) + outcome
            delta.buckets[bucket] = window
            delta.toolCalls[tool] = (delta.toolCalls[tool] ?? OutcomeCounts()) + outcome
            // The seeds' bug #4: every tool call counts towards its session.
            session.toolCalls += weight
        case .error:
            delta.errorCodes[event.code ?? "", default: 0] += weight
        case .sessionEnd:
            session.endedAt = max(session.endedAt ?? event.timestamp, event.timestamp)
        case .sessionStart:
            break
        }
        delta.sessions[event.sessionID] = session
    }
}
