/// Tally's own use of the sampler: telemetry events at ingest.
extension AdaptiveSampler {
    /// The attribute that marks an event critical: `"critical": "true"`.
    public static let criticalAttribute = "critical"

    /// Whether an event is never sampled out: failed tool calls, `error`
    /// events, session starts and ends (session statistics pair them), and any
    /// event whose attributes hold `"critical": "true"`.
    public static func isCritical(_ event: TelemetryEvent) -> Bool {
        switch event.type {
        case .error, .sessionStart, .sessionEnd:
            return true
        case .toolCall where event.success == false:
            return true
        case .completion, .toolCall:
            return event.attributes[criticalAttribute] == "true"
        }
    }

    /// The records to append (kept events with their weight) and how many events were sampled out.
    /// Nothing is counted yet: once the batch is accepted, count it with
    /// ``recordDecisions(kept:sampledOut:)``, so a batch the log refused (and
    /// the client retries) is not counted twice.
    public func sample(_ events: [TelemetryEvent]) -> (records: [EventRecord], dropped: Int) {
        var records: [EventRecord] = []
        records.reserveCapacity(events.count)
        for event in events {
            if let weight = decide(critical: Self.isCritical(event)) {
                records.append(EventRecord(event: event, weight: weight))
            }
        }
        return (records, events.count - records.count)
    }
}
