import Foundation
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
        var sessionFigures: SessionFigures?
        /// The newest fencing token the leader's figures were stored with.
        var figuresToken = -1
        var leader: (node: String, expires: ContinuousClock.Instant)?
        var lastToken = 0
        var lastSessionSweep = -Double.infinity
    }

    /// Unix seconds: the one clock of this state (as Redis's `TIME` is for ``RedisStateStore``).
    let clock: @Sendable () -> Double

    /// - Parameter clock: unix seconds; decides window membership, expiry and the leader's `computed_at`.
    public init(configuration: StateConfiguration = .default, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.configuration = configuration
        self.clock = clock
    }

    public func now() async throws -> Double { clock() }


    /// Applies a delta without suspension, for ``MemoryBatchCommitter``'s atomic apply-and-acknowledge.
    ///
    /// The same rule as the Redis script: first every check — the delta's numbers
    /// (``ApplyLimits``, ``ApplyError/Kind/input``), then every sum it makes with the held state
    /// (finite, ``ApplyError/Kind/state``) — and only then any change, none of which can fail.
    func applyNow(_ delta: StateDelta, now: Double) throws(ApplyError) {
        let configuration = self.configuration
        try ApplyLimits.validate(delta, now: now, configuration: configuration)
        try state.withLock { s throws(ApplyError) in
            // Check: admit new tools and codes first (name order), so buckets and totals agree on the cap.
            var knownTools = s.knownTools
            var knownCodes = s.knownCodes
            for tool in delta.toolCalls.keys.sorted() {
                Self.admit(tool, into: &knownTools, limit: configuration.maxTools)
            }
            for code in delta.errorCodes.keys.sorted() {
                Self.admit(code, into: &knownCodes, limit: configuration.maxErrorCodes)
            }
            func toolName(_ tool: String) -> String { knownTools.contains(tool) ? tool : StateConfiguration.overflowValue }
            let oldest = configuration.oldestBucket(now: now)
            let buckets = delta.buckets.filter { $0.key >= oldest }.mapValues { bucket in
                var capped = bucket
                capped.toolCalls = Self.aggregated(bucket.toolCalls, toolName)
                return capped
            }
            let toolTotals = Self.aggregated(delta.toolCalls, toolName)
            var errorTotals: [String: Double] = [:]
            for (code, count) in delta.errorCodes {
                errorTotals[knownCodes.contains(code) ? code : StateConfiguration.overflowValue, default: 0] += count
            }
            let timeout = Double(configuration.sessionTimeoutSeconds)
            func held(_ id: String) -> SessionSnapshot? {
                // A session quiet past the timeout is gone, even before a sweep: a returning id starts afresh.
                s.sessions[id].flatMap { $0.lastSeen + timeout >= now ? $0 : nil }
            }
            try Self.checkSums(buckets: buckets, toolTotals: toolTotals, errorTotals: errorTotals, sessions: delta.sessions, in: s, held: held)

            // Change: nothing below can fail.
            s.knownTools = knownTools
            s.knownCodes = knownCodes
            if s.buckets.keys.contains(where: { $0 < oldest }) {
                s.buckets = s.buckets.filter { $0.key >= oldest }
            }
            for (start, bucket) in buckets {
                var merged = s.buckets[start] ?? WindowBucketDelta()
                merged.completions += bucket.completions
                merged.accepted += bucket.accepted
                merged.latency.merge(bucket.latency)
                for (name, counts) in bucket.toolCalls {
                    merged.toolCalls[name] = (merged.toolCalls[name] ?? OutcomeCounts()) + counts
                }
                s.buckets[start] = merged
            }
            for (name, counts) in toolTotals {
                s.toolTotals[name] = (s.toolTotals[name] ?? OutcomeCounts()) + counts
            }
            for (name, count) in errorTotals {
                s.errorTotals[name, default: 0] += count
            }
            for (id, change) in delta.sessions {
                var session = held(id) ?? SessionSnapshot(id: id, firstSeen: change.firstSeen, lastSeen: change.lastSeen, toolCalls: 0, endedAt: nil)
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

    /// Outcome counts under their capped names; names that share one (the overflow value) add up,
    /// as the Redis script adds them before it adds them to the stored value.
    static func aggregated(_ outcomes: [String: OutcomeCounts], _ name: (String) -> String) -> [String: OutcomeCounts] {
        var result: [String: OutcomeCounts] = [:]
        for (raw, counts) in outcomes {
            let capped = name(raw)
            result[capped] = (result[capped] ?? OutcomeCounts()) + counts
        }
        return result
    }

    /// Every value the delta adds to must stay finite (the held values are finite: every delta was checked).
    private static func checkSums(buckets: [Int: WindowBucketDelta], toolTotals: [String: OutcomeCounts], errorTotals: [String: Double],
                                  sessions: [String: SessionDelta], in s: State, held: (String) -> SessionSnapshot?) throws(ApplyError) {
        for (start, bucket) in buckets {
            let current = s.buckets[start] ?? WindowBucketDelta()
            try ApplyLimits.finiteSum(current.completions + bucket.completions, "bucket \(start) completions")
            try ApplyLimits.finiteSum(current.accepted + bucket.accepted, "bucket \(start) accepted")
            try ApplyLimits.finiteSum(current.latency.sum + bucket.latency.sum, "bucket \(start) latency sum")
            try ApplyLimits.finiteSum(current.latency.count + bucket.latency.count, "bucket \(start) latency count")
            for (index, count) in bucket.latency.positiveBins {
                try ApplyLimits.finiteSum((current.latency.positiveBins[index] ?? 0) + count, "bucket \(start) bin \(index)")
            }
            for (name, counts) in bucket.toolCalls {
                let sum = (current.toolCalls[name] ?? OutcomeCounts()) + counts
                try ApplyLimits.finiteSum(sum.success, "bucket \(start) tool '\(name.prefix(64))' successes")
                try ApplyLimits.finiteSum(sum.failure, "bucket \(start) tool '\(name.prefix(64))' failures")
            }
        }
        for (name, counts) in toolTotals {
            let sum = (s.toolTotals[name] ?? OutcomeCounts()) + counts
            try ApplyLimits.finiteSum(sum.success, "tool '\(name.prefix(64))' successes")
            try ApplyLimits.finiteSum(sum.failure, "tool '\(name.prefix(64))' failures")
        }
        for (name, count) in errorTotals {
            try ApplyLimits.finiteSum((s.errorTotals[name] ?? 0) + count, "code '\(name.prefix(64))' total")
        }
        for (id, change) in sessions {
            try ApplyLimits.finiteSum((held(id)?.toolCalls ?? 0) + change.toolCalls, "session '\(id.prefix(64))' tool calls")
        }
    }

    /// Tools and codes are admitted in first-seen order until the cap; within one delta, in name order
    /// (the Redis store admits in the same order, so both stores agree).
    static func admit(_ name: String, into known: inout Set<String>, limit: Int) {
        if known.count < limit { known.insert(name) }
    }

    public func window(now: Double?) async throws -> WindowSnapshot {
        let starts = configuration.windowBuckets(now: now ?? clock())
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

    public func scanActiveSessions(now: Double, _ body: ([SessionSnapshot]) -> Void) async throws {
        let timeout = Double(configuration.sessionTimeoutSeconds)
        let sessions = state.withLock { s in
            Self.sweepSessions(&s, now: now, timeout: timeout)
            return s.sessions.values.filter { $0.endedAt == nil && $0.lastSeen + timeout >= now }
        }
        body(Array(sessions))
    }

    public func sessionFigures() async throws -> SessionFigures? {
        state.withLock { $0.sessionFigures }
    }

    public func score() async throws -> CompositeScore? {
        state.withLock { $0.score }
    }

    public func storeLeaderFigures(score: CompositeScore?, sessions: SessionFigures?, token: Int) async throws -> Bool {
        state.withLock { s in
            if s.figuresToken > token { return false }
            s.figuresToken = token
            if let score { s.score = score }
            if let sessions { s.sessionFigures = sessions }
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

    /// Everything held, as text: tests compare it to show that a refused apply changed nothing.
    var stateDump: String {
        state.withLock { String(reflecting: $0) }
    }

    /// Buckets, sessions, tools and codes held: the memory bound tests check this.
    public var heldItems: (buckets: Int, sessions: Int, tools: Int, codes: Int) {
        state.withLock { ($0.buckets.count, $0.sessions.count, $0.toolTotals.count, $0.errorTotals.count) }
    }
}
