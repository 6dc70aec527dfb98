/// Every Redis key Tally uses for one shard, all under the hash tag `{prefix}`
/// so that one atomic step (a Lua script) touches a single cluster slot.
///
/// Documented key by key in `docs/redis-layout.md`.
public struct RedisKeys: Sendable, Hashable {
    /// The hash tag, e.g. `{tally}`.
    public let tag: String
    /// The consumer group of the workers.
    public let group: String

    public init(prefix: String = "tally", group: String = "tally-workers") {
        self.tag = "{\(prefix)}"
        self.group = group
    }

    /// The event stream.
    public var events: String { tag + ":events" }
    /// Counter that fences the first commit of a batch of new entries (``LogRead/fence``): bumped by
    /// ``RedisEventLog/prepare()`` and by every commit that acknowledges entries without a fence.
    public var deliveryFence: String { tag + ":events:fence" }
    /// The dead-letter stream.
    public var deadLetters: String { tag + ":dlq" }
    /// Hash idempotency key → "fingerprint accepted-count", for keys within their window.
    public var idempotencyKeys: String { tag + ":idempotency" }
    /// Sorted set idempotency key → expiry (unix ms, Redis's clock).
    public var idempotencyExpiry: String { tag + ":idempotency:expiry" }
    /// Counter of idempotency keys forgotten early because the key bound was reached.
    public var idempotencyEvicted: String { tag + ":idempotency:evicted" }
    /// Hash dedupe ring position → the time slice its set holds now.
    public var dedupeSlices: String { tag + ":dedupe:slices" }
    /// Set of client event ids appended during one dedupe slice, at ring `position`.
    public func dedupeSlice(_ position: Int) -> String { tag + ":dedupe:\(position)" }
    /// Hash of one window bucket starting at `start` (unix seconds).
    public func bucket(_ start: Int) -> String { tag + ":w:\(start)" }
    /// Set of admitted tool names (capped).
    public var knownTools: String { tag + ":tools:known" }
    /// Hash tool → successful calls since the state began.
    public var toolSuccesses: String { tag + ":tools:success" }
    /// Hash tool → failed calls since the state began.
    public var toolFailures: String { tag + ":tools:failure" }
    /// Set of admitted client error codes (capped).
    public var knownCodes: String { tag + ":codes:known" }
    /// Hash code → client errors since the state began.
    public var codeTotals: String { tag + ":codes:total" }
    /// Sorted set of sessions not ended, scored by their last event time.
    public var activeSessions: String { tag + ":sessions" }
    /// Sorted set of live and recently ended sessions, scored by their first event time.
    public var sessionFirstSeen: String { tag + ":sessions:first" }
    /// Hash session → tool calls, for live and recently ended sessions.
    public var sessionToolCalls: String { tag + ":sessions:tools" }
    /// Sorted set of ended sessions, scored by their last event (or end) time, kept for the session timeout.
    public var endedSessions: String { tag + ":sessions:ended" }
    /// Hash of the session figures the leader computed last: `active`, `duration_sum`,
    /// `tool_calls_sum`, `tools_per_minute` (a serialized sketch, base64), `computed_at`, `token`.
    public var sessionFigures: String { tag + ":sessions:figures" }
    /// Hash of the composite score: `value`, `computed_at`, `token`.
    public var score: String { tag + ":score" }
    /// The settings every node must share (``StateConfiguration/sharedSettings``), written by the first node to start.
    public var settings: String { tag + ":settings" }
    /// The shard count the deployment was started with (``ShardLayout``), written by the first node to start.
    public var shardCount: String { tag + ":shards" }
    /// The leader lock (value: the leader's node id).
    public var leader: String { tag + ":leader" }
    /// Counter issuing fencing tokens.
    public var leaderToken: String { tag + ":leader:token" }
}
