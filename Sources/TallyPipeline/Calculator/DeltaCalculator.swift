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

        // Every change is made in place (`subscript(_:default:)` yields the stored value): copying a
        // bucket out and back would copy its sketch and tool tables on every event.
        delta.sessions[event.sessionID, default: SessionDelta(firstSeen: event.timestamp, lastSeen: event.timestamp)]
            .see(at: event.timestamp)

        switch event.type {
        case .completion:
            let latency = event.latencyMilliseconds ?? 0
            delta.buckets[bucket, default: WindowBucketDelta()].addCompletion(latencySeconds: latency / 1000, accepted: event.accepted == true, weight: weight)
        case .toolCall:
            let tool = event.tool ?? ""
            let outcome = event.success == true ? OutcomeCounts(success: weight) : OutcomeCounts(failure: weight)
            delta.buckets[bucket, default: WindowBucketDelta()].toolCalls[tool, default: OutcomeCounts()] += outcome
            delta.toolCalls[tool, default: OutcomeCounts()] += outcome
            // The seeds' bug #4: every tool call counts towards its session.
            delta.sessions[event.sessionID]!.toolCalls += weight
        case .error:
            delta.errorCodes[event.code ?? "", default: 0] += weight
        case .sessionEnd:
            delta.sessions[event.sessionID]!.end(at: event.timestamp)
        case .sessionStart:
            break
        }
    }
}
