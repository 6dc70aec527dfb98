/// What every node reads of the shared state: windowed sketches and counters,
/// all-time tool and error counts, sessions, and the leader's figures (the
/// composite score and the session figures).
///
/// Implementations: ``RedisStateStore`` (global, durable as Redis is) and
/// ``MemoryStateStore`` (one process); one conformance suite tests both. The
/// state is written only by a ``BatchCommitter`` (events) and the leader
/// (``StateStore/storeLeaderFigures(score:sessions:token:)``).
///
/// **One clock.** The state's own clock (``now()``: Redis's `TIME`, or the
/// memory store's process clock) decides window membership, bucket and
/// session expiry and the leader's `computed_at`, whichever node writes or
/// reads. A `now` argument of nil means that clock; production code always
/// passes nil, tests pass a time to replay a moment exactly.
public protocol StateReader: Sendable {
    var configuration: StateConfiguration { get }
    /// The state's clock, unix seconds.
    func now() async throws -> Double
    /// The window's buckets at `now` (nil: the state's clock), merged.
    func window(now: Double?) async throws -> WindowSnapshot
    /// Tool calls since the state began, by (capped) tool.
    func toolCallTotals() async throws -> [String: OutcomeCounts]
    /// Client errors since the state began, by (capped) code.
    func errorCodeTotals() async throws -> [String: Double]
    /// Calls `body` with every session not ended whose last event is within the session timeout of
    /// `now`, a chunk at a time (so a million sessions never sit in memory at once). Linear in the
    /// live sessions: only the leader calls it, once per period (see ``SessionFigures``).
    func scanActiveSessions(now: Double, _ body: ([SessionSnapshot]) -> Void) async throws
    /// The session figures the leader stored last; nil before any leader computed them.
    func sessionFigures() async throws -> SessionFigures?
    /// The last stored composite score (its value nil when the leader found no data); nil before the leader first wrote one.
    func score() async throws -> CompositeScore?
}

/// The shared state as the leader uses it: everything a reader reads, the leader lock, and the
/// fenced write of the leader's figures. Memory is bounded: buckets expire after the window,
/// sessions after ``StateConfiguration/sessionTimeoutSeconds``, tools and error codes are capped.
public protocol StateStore: StateReader {
    /// Stores `score` and `sessions` (when given) unless figures with a newer fencing token are
    /// already stored; returns whether they were stored.
    func storeLeaderFigures(score: CompositeScore?, sessions: SessionFigures?, token: Int) async throws -> Bool
    /// Takes or renews the leader lock for `node`; returns its fencing token while `node` leads, nil otherwise.
    func acquireLeadership(node: String, ttl: Duration) async throws -> Int?
    /// Gives the lock up if `node` holds it.
    func releaseLeadership(node: String) async throws
}

extension StateReader {
    /// The window's buckets at the state's clock, merged.
    public func window() async throws -> WindowSnapshot { try await window(now: nil) }

    /// Every active session at `now` (nil: the state's clock), by id: linear in the live sessions.
    public func activeSessions(now: Double? = nil) async throws -> [SessionSnapshot] {
        let at: Double
        if let now { at = now } else { at = try await self.now() }
        var sessions: [SessionSnapshot] = []
        try await scanActiveSessions(now: at) { sessions += $0 }
        return sessions.sorted { $0.id < $1.id }
    }
}

extension StateStore {
    /// Stores `score` unless a score with a newer fencing token is already stored; returns whether it was stored.
    public func storeScore(_ score: CompositeScore) async throws -> Bool {
        try await storeLeaderFigures(score: score, sessions: nil, token: score.token)
    }
}
