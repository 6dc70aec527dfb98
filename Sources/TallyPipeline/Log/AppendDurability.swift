/// When an append counts as stored, and so when ingest may answer 202.
///
/// A Redis primary acknowledges a write before its replicas have it, so a primary that dies right
/// after can take acknowledged events with it. `replicated` closes that window: the append is
/// followed by `WAIT` on the same connection, and an append no replica confirmed in time is
/// reported as ``ReplicationTimeout`` (the ingest answers 503, and a retry with the same
/// `Idempotency-Key` or event ids stores nothing twice).
public enum AppendDurability: Sendable, Hashable, CustomStringConvertible {
    /// Acknowledged once the primary has it (the default; on a single node, the only choice).
    case local
    /// Acknowledged once at least `replicas` replicas have it, waiting at most `timeout`.
    case replicated(replicas: Int, timeout: Duration)

    public var description: String {
        switch self {
        case .local: "local"
        case .replicated(let replicas, _): "replicated (\(replicas) replica\(replicas == 1 ? "" : "s"))"
        }
    }
}

/// A replicated append that fewer replicas confirmed than required within the timeout. The primary
/// has the entries (unless it fails before replicating them), so the outcome is unknown to the caller.
public struct ReplicationTimeout: Error, Sendable, Hashable, CustomStringConvertible {
    public let required: Int
    public let acknowledged: Int

    public init(required: Int, acknowledged: Int) {
        self.required = required
        self.acknowledged = acknowledged
    }

    public var description: String {
        "the append reached \(acknowledged) of the \(required) replica(s) required by --durability replicated in time"
    }
}
