/// The shared state every worker writes and every node reads: windowed
/// sketches and counters, all-time tool and error counts, sessions, the
/// composite score and the leader lock.
///
/// Implementations: ``RedisStateStore`` (global, durable as Redis is) and
/// ``MemoryStateStore`` (one process). Both give the same answers for the same
/// deltas (one conformance suite tests both). `apply` is atomic: a reader sees
/// all of a delta or none of it. Memory is bounded: buckets expire after the
/// window, sessions after ``StateConfiguration/sessionTimeoutSeconds``, tools
/// and error codes are capped.
public protocol StateStore: Sendable {
    var configuration: StateConfiguration { get }
    /// Applies `delta` atomically; `now` (unix seconds) decides which buckets are still in the window.
    /// Every check comes before the first change: a delta out of ``ApplyLimits`` or a state it cannot
    /// be added to throws ``ApplyError`` and changes nothing.
    func apply(_ delta: StateDelta, now: Double) async throws
    /// The window's buckets at `now`, merged.
    func window(now: Double) async throws -> WindowSnapshot
    /// Tool calls since the state began, by (capped) tool.
    func toolCallTotals() async throws -> [String: OutcomeCounts]
    /// Client errors since the state began, by (capped) code.
    func errorCodeTotals() async throws -> [String: Double]
    /// Sessions not ended whose last event is within the session timeout of `now`.
    func activeSessions(now: Double) async throws -> [SessionSnapshot]
    /// The last stored composite score (its value nil when the leader found no data); nil before the leader first wrote one.
    func score() async throws -> CompositeScore?
    /// Stores `score` unless a score with a newer fencing token is already stored; returns whether it was stored.
    func storeScore(_ score: CompositeScore) async throws -> Bool
    /// Takes or renews the leader lock for `node`; returns its fencing token while `node` leads, nil otherwise.
    func acquireLeadership(node: String, ttl: Duration) async throws -> Int?
    /// Gives the lock up if `node` holds it.
    func releaseLeadership(node: String) async throws
}
