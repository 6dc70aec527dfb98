import Synchronization
import TallyMetrics

/// The embedded ``StateStore``: one process's state behind a mutex.
///
/// Same semantics as ``RedisStateStore`` (caps, expiry, fencing), nothing is
/// durable. Every operation holds the lock only for in-memory work, never
/// across a suspension point, so it never blocks a cooperative thread for long.
public final class MemoryStateStore: StateStore {
    public let configuration: StateConfiguration
    private let state = Mutex(State())

    struct State {
        var buckets: [Int: WindowBucketDelta] = [:]
        var toolTotals: [String: OutcomeCounts] = [:]
        var errorTotals: [String: Double] = [:]
        var sessions: [String: SessionSnapshot] = [:]
        var knownTools: Set<String> = []
        var knownCodes: Set<String> = []
        var score: CompositeScore?
        var leader: (node: String, expires: ContinuousClock.Instant)?
        var lastToken = 0
        var lastSessionSweep = -Double.infinity
    }

    public init(configuration: StateConfiguration = .default) {
        self.configuration = configuration
    }

    public func apply(_ delta: StateDelta, now: Double) async throws {
        applyNow(delta, now: now)
    }

    /// `apply` without suspension, for ``MemoryEventLog``'s atomic apply-and-acknowledge.
    func applyNow(_ delta: StateDelta, now: Double) {
        let configuration = self.configuration
        state.withLock { s in
            // Admit new tools and codes first (name order), so buckets and totals agree on the cap.
            for tool in delta.toolCalls.keys.sorted() {
                Self.admit(tool, into: &s.knownTools, limit: configuration.maxTools)
            }
            for code in delta.errorCodes.keys.sorted() {
                Self.admit(code, into: &s.knownCodes, limit: configuration.maxErrorCodes)
            }
            let tools = s.knownTools
            func toolName(_ tool: String) -> String { tools.contains(tool) ? tool : StateConfiguration.overflowValue }
            let oldest = configuration.oldestBucket(now: now)
            if s.buckets.keys.contains(where: { $0 < oldest }) {
                s.buckets = s.buckets.filter { $0.key >= oldest }
            }
            for (start, bucket) in delta.buckets where start >= oldest {
                var merged = s.buckets[start] ?? WindowBucketDelta()
                merged.completions += bucket.completions
                merged.accepted += bucket.accepted
                merged.latency.merge(bucket.latency)
                for (tool, counts) in bucket.toolCalls {
                    let name = toolName(tool)
                    merged.toolCalls[name] = (merged.toolCalls[name] ?? OutcomeCounts()) + counts
                }
                s.buckets[start] = merged
            }
            for (tool, counts) in delta.toolCalls {
                let name = toolName(tool)
                s.toolTotals[name] = (s.toolTotals[name] ?? OutcomeCounts()) + counts
            }
            for (code, count) in delta.errorCodes {
                let name = s.knownCodes.contains(code) ? code : StateConfiguration.overflowValue
                s.errorTotals[name, default: 0] += count
            }
            let timeout = Double(configuration.sessionTimeoutSeconds)
            for (id, change) in delta.sessions {
                // A session quiet past the timeout is gone, even before a sweep: a returning id starts afresh.
                let held = s.sessions[id].flatMap { $0.lastSeen + timeout >= now ? $0 : nil }
                var session = held ?? SessionSnapshot(id: id, firstSeen: change.firstSeen, lastSeen: change.lastSeen, toolCalls: 0, endedAt: nil)
                session.firstSeen = min(session.firstSeen, change.firstSeen)
                session.lastSeen = max(session.lastSeen, change.lastSeen)
                session.toolCalls += change.toolCalls
                if let end = change.endedAt { session.endedAt = max(session.endedAt ?? end, end) }
                s.sessions[id] = session
            }
            // Forget timed-out sessions at most once a second here (a sweep is linear in the sessions
            // held); `activeSessions` sweeps on every read.
            if now - s.lastSessionSweep >= 1 || now < s.lastSessionSweep {
                Self.sweepSessions(&s, now: now, timeout: timeout)
            }
        }
    }

    /// Tools and codes are admitted in first-seen order until the cap; within one delta, in name order
    /// (the Redis store admits in the same order, so both stores agree).
    static func admit(_ name: String, into known: inout Set<String>, limit: Int) {
        if known.count < limit { known.insert(name) }
    }

    public func window(now: Double) async throws -> WindowSnapshot {
        let starts = configuration.windowBuckets(now: now)
        return state.withLock { s in
            var snapshot = WindowSnapshot()
            for start in starts {
                if let bucket = s.buckets[start] { snapshot.merge(bucket) }
            }
            return snapshot
        }
    }

    public func toolCallTotals() async throws -> [String: OutcomeCounts] {
        state.withLock { $0.toolTotals }
    }

    public func errorCodeTotals() async throws -> [String: Double] {
        state.withLock { $0.errorTotals }
    }

    private static func sweepSessions(_ s: inout State, now: Double, timeout: Double) {
        s.sessions = s.sessions.filter { $0.value.lastSeen + timeout >= now }
        s.lastSessionSweep = now
    }

    public func activeSessions(now: Double) async throws -> [SessionSnapshot] {
        let timeout = Double(configuration.sessionTimeoutSeconds)
        return state.withLock { s in
            Self.sweepSessions(&s, now: now, timeout: timeout)
            return s.sessions.values.filter { $0.endedAt == nil && $0.lastSeen + timeout >= now }.sorted { $0.id < $1.id }
        }
    }

    public func score() async throws -> CompositeScore? {
        state.withLock { $0.score }
    }

    public func storeScore(_ score: CompositeScore) async throws -> Bool {
        state.withLock { s in
            if let current = s.score, current.token > score.token { return false }
            s.score = score
            return true
        }
    }

    public func acquireLeadership(node: String, ttl: Duration) async throws -> Int? {
        let now = ContinuousClock.now
        return state.withLock { s in
            if let leader = s.leader, leader.expires > now, leader.node != node { return nil }
            if s.leader?.node != node || s.leader.map({ $0.expires <= now }) ?? true {
                s.lastToken += 1
            }
            s.leader = (node, now + ttl)
            return s.lastToken
        }
    }

    public func releaseLeadership(node: String) async throws {
        state.withLock { s in
            if s.leader?.node == node { s.leader = nil }
        }
    }

    /// Buckets, sessions, tools and codes held: the memory bound tests check this.
    public var heldItems: (buckets: Int, sessions: Int, tools: Int, codes: Int) {
        state.withLock { ($0.buckets.count, $0.sessions.count, $0.toolTotals.count, $0.errorTotals.count) }
    }
}
