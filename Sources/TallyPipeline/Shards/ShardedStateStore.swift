/// The state of a sharded deployment as one ``StateStore``: windows, totals and sessions are read
/// from every shard and merged; the leader's lock, the score and the session figures live once,
/// in the global store (the layout's `{tally}` keys).
///
/// Merging is exact: sketch bins and counters add, and a session lives in one shard. The tool and
/// error-code caps apply again after merging, since each shard admits its own first names: past
/// ``StateConfiguration/maxTools`` (``StateConfiguration/maxErrorCodes``), the names with the most
/// counts are kept (ties by name) and the others count under the overflow value, the same on every
/// node. **One clock:** the global store's clock (its node's `TIME`) picks the window's buckets
/// for every shard.
public struct ShardedStateStore: StateStore {
    /// Each shard's state, by index.
    public let shards: [any StateStore]
    /// Where the leader's lock, score and session figures live, and whose clock readers go by.
    public let global: any StateStore

    public init(shards: [any StateStore], global: any StateStore) {
        self.shards = shards
        self.global = global
    }

    public var configuration: StateConfiguration { global.configuration }

    public func now() async throws -> Double {
        try await global.now()
    }

    public func window(now: Double?) async throws -> WindowSnapshot {
        let at: Double
        if let now { at = now } else { at = try await global.now() }
        var merged = WindowSnapshot()
        for part in try await eachShard(shards, { try await $0.window(now: at) }) {
            merged.completions += part.completions
            merged.accepted += part.accepted
            merged.latency.merge(part.latency)
            for (tool, counts) in part.toolCalls { merged.toolCalls[tool] = (merged.toolCalls[tool] ?? OutcomeCounts()) + counts }
        }
        merged.toolCalls = Self.capped(merged.toolCalls, limit: configuration.maxTools, weight: \.total, add: +)
        return merged
    }

    public func toolCallTotals() async throws -> [String: OutcomeCounts] {
        var merged: [String: OutcomeCounts] = [:]
        for part in try await eachShard(shards, { try await $0.toolCallTotals() }) {
            for (tool, counts) in part { merged[tool] = (merged[tool] ?? OutcomeCounts()) + counts }
        }
        return Self.capped(merged, limit: configuration.maxTools, weight: \.total, add: +)
    }

    public func errorCodeTotals() async throws -> [String: Double] {
        var merged: [String: Double] = [:]
        for part in try await eachShard(shards, { try await $0.errorCodeTotals() }) {
            for (code, count) in part { merged[code, default: 0] += count }
        }
        return Self.capped(merged, limit: configuration.maxErrorCodes, weight: { $0 }, add: +)
    }

    /// Every shard's live sessions in turn (a session lives in one shard).
    public func scanActiveSessions(now: Double, _ body: ([SessionSnapshot]) -> Void) async throws {
        for shard in shards { try await shard.scanActiveSessions(now: now, body) }
    }

    public func sessionFigures() async throws -> SessionFigures? {
        try await global.sessionFigures()
    }

    public func score() async throws -> CompositeScore? {
        try await global.score()
    }

    public func storeLeaderFigures(score: CompositeScore?, sessions: SessionFigures?, token: Int) async throws -> Bool {
        try await global.storeLeaderFigures(score: score, sessions: sessions, token: token)
    }

    public func acquireLeadership(node: String, ttl: Duration) async throws -> Int? {
        try await global.acquireLeadership(node: node, ttl: ttl)
    }

    public func releaseLeadership(node: String) async throws {
        try await global.releaseLeadership(node: node)
    }

    /// `counts` with at most `limit` names besides the overflow value: the heaviest names (ties by
    /// name) are kept, the others are added to the overflow value.
    static func capped<Value>(_ counts: [String: Value], limit: Int, weight: (Value) -> Double, add: (Value, Value) -> Value) -> [String: Value] {
        let overflow = StateConfiguration.overflowValue
        let named = counts.filter { $0.key != overflow }
        guard named.count > limit else { return counts }
        let ranked = named.sorted { weight($0.value) != weight($1.value) ? weight($0.value) > weight($1.value) : $0.key < $1.key }
        var result = Dictionary(uniqueKeysWithValues: ranked.prefix(limit).map { ($0.key, $0.value) })
        var folded = counts[overflow]
        for (_, value) in ranked.dropFirst(limit) {
            folded = folded.map { add($0, value) } ?? value
        }
        result[overflow] = folded
        return result
    }
}
