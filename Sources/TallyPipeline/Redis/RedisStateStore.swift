import Foundation
import TallyCore
import TallyMetrics
import TallyRedis

/// The global ``StateStore`` on Redis: every worker and node of a deployment shares it.
///
/// Events are written by ``RedisBatchCommitter`` (``ApplyScript``, atomic), the leader's figures
/// by ``storeLeaderFigures(score:sessions:token:)``. A window read asks for
/// the buckets' versions and the current bucket in one pipelined round trip
/// and re-reads only the buckets written since it last read them (a copy of the
/// store shares that cache). Memory is bounded by key expiry (buckets,
/// sessions) and caps (tools, codes). Key layout: ``RedisKeys``.
public struct RedisStateStore: StateStore {
    package let client: any RedisClient
    public let keys: RedisKeys
    public let configuration: StateConfiguration

    /// The window buckets last read, by start, with their versions.
    let windowCache = WindowBucketCache()

    public init(client: any RedisClient, keys: RedisKeys = RedisKeys(), configuration: StateConfiguration = .default) {
        self.client = client
        self.keys = keys
        self.configuration = configuration
    }

    /// Redis's `TIME`: the clock every writer and reader of the state goes by.
    public func now() async throws -> Double {
        try await Self.serverTime(client, keys: keys)
    }

    /// `TIME` of the server that holds the state's keys: on a Redis Cluster that node's (whose clock
    /// the apply step reads), not any node's.
    static func serverTime(_ client: any RedisClient, keys: RedisKeys) async throws -> Double {
        try time(from: try await client.keyless(onNodeOf: keys.events).send(RedisCommand("TIME")))
    }

    static func time(from reply: RESPValue) throws -> Double {
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap(Int.init),
              let microseconds = parts[1].string.flatMap(Int.init) else {
            throw PipelineReplyError(step: .serverTime, command: "TIME", reply: reply)
        }
        return Double(seconds) + Double(microseconds) / 1_000_000
    }

    public func window(now: Double?) async throws -> WindowSnapshot {
        let at: Double
        if let now { at = now } else { at = try await self.now() }
        let starts = configuration.windowBuckets(now: at)
        guard let current = starts.last else { return WindowSnapshot() }
        // One round trip: every older bucket's version, and the current bucket whole (it changes all the time).
        let older = starts.dropLast()
        let first = try await client.send(batch: older.map { RedisCommand("HGET", .string(keys.bucket($0)), .string(BucketField.version)) }
                                               + [RedisCommand("HGETALL", .string(keys.bucket(current)))])
        for (index, reply) in first.enumerated() {
            if case .error = reply { throw PipelineReplyError(step: .windowRead, command: index < older.count ? "HGET" : "HGETALL", reply: reply) }
        }
        var fresh: [Int: [String: String]] = [current: Self.stringMap(first[first.count - 1])]
        let stale = zip(older, first).compactMap { start, version in windowCache.holds(start, version: version.string) ? nil : start }
        if !stale.isEmpty {
            let replies = try await client.send(batch: stale.map { RedisCommand("HGETALL", .string(keys.bucket($0))) })
            for (start, reply) in zip(stale, replies) {
                if case .error = reply { throw PipelineReplyError(step: .windowRead, command: "HGETALL", reply: reply) }
                fresh[start] = Self.stringMap(reply)
            }
        }
        return windowCache.merge(starts: starts, fresh: fresh.mapValues { ($0[BucketField.version], Self.bucket(from: $0)) })
    }

    /// The field names of a window bucket hash (``RedisKeys/bucket(_:)``): the apply script writes
    /// them from here, ``bucket(from:)`` reads them.
    enum BucketField {
        static let completions = "n"
        static let accepted = "a"
        static let latencySum = "sum"
        static let zeroLatencies = "zero"
        /// `b<index>`: the count of latency-sketch bin `index`.
        static let binPrefix = "b"
        /// `ts:<tool>` / `tf:<tool>`: a tool's successes / failures.
        static let toolSuccessPrefix = "ts:"
        static let toolFailurePrefix = "tf:"
        /// The bucket's version: max(previous + 1, the write's time in µs), new on every write.
        static let version = "v"
    }

    static func bucket(from fields: [String: String]) -> WindowBucketDelta {
        var bucket = WindowBucketDelta()
        var zero = 0.0
        var sum = 0.0
        for (name, text) in fields {
            guard let value = Double(text) else { continue }
            switch name {
            case BucketField.completions: bucket.completions = value
            case BucketField.accepted: bucket.accepted = value
            case BucketField.latencySum: sum = value
            case BucketField.zeroLatencies: zero = value
            default:
                if name.hasPrefix(BucketField.binPrefix), let index = Int(name.dropFirst(BucketField.binPrefix.count)) {
                    bucket.latency.addBin(index: index, count: value)
                } else if name.hasPrefix(BucketField.toolSuccessPrefix) {
                    bucket.toolCalls[String(name.dropFirst(BucketField.toolSuccessPrefix.count)), default: OutcomeCounts()].success += value
                } else if name.hasPrefix(BucketField.toolFailurePrefix) {
                    bucket.toolCalls[String(name.dropFirst(BucketField.toolFailurePrefix.count)), default: OutcomeCounts()].failure += value
                }
            }
        }
        bucket.latency.addTotals(zeroCount: zero, sum: sum)
        return bucket
    }

    public func toolCallTotals() async throws -> [String: OutcomeCounts] {
        let successes = try await client.hgetall(keys.toolSuccesses)
        let failures = try await client.hgetall(keys.toolFailures)
        var totals: [String: OutcomeCounts] = [:]
        for (tool, text) in successes { totals[tool, default: OutcomeCounts()].success = Double(text) ?? 0 }
        for (tool, text) in failures { totals[tool, default: OutcomeCounts()].failure = Double(text) ?? 0 }
        return totals
    }

    public func errorCodeTotals() async throws -> [String: Double] {
        try await client.hgetall(keys.codeTotals).compactMapValues(Double.init)
    }

    /// Sessions read per round trip while scanning (10,000; tests make it small to cross chunks).
    package var sessionScanChunk = 10_000

    /// Walks the live sessions by last-seen time with a (score, members already seen at that score)
    /// cursor: each step is `O(log N + chunk)` on Redis, and a session that moves while the scan runs
    /// (a new event raises its score) is the only one it can meet twice.
    public func scanActiveSessions(now: Double, _ body: ([SessionSnapshot]) -> Void) async throws {
        var low = now - Double(configuration.sessionTimeoutSeconds)
        var seenAtLow = 0
        var lowText = String(low)
        while true {
            let reply = try await client.send(RedisCommand("ZRANGE", .string(keys.activeSessions), .string(lowText), "+inf", "BYSCORE",
                                                           "LIMIT", .integer(seenAtLow), .integer(sessionScanChunk), "WITHSCORES"))
            let scored = Self.scoredMembers(reply)
            guard !scored.isEmpty else { return }
            let members = scored.map { RedisArgument.string($0.member) }
            let replies = try await client.send(batch: [
                RedisCommand("ZMSCORE", arguments: [.string(keys.sessionFirstSeen)] + members),
                RedisCommand("HMGET", arguments: [.string(keys.sessionToolCalls)] + members),
            ])
            for (command, reply) in zip(["ZMSCORE", "HMGET"], replies) {
                if case .error = reply { throw PipelineReplyError(step: .sessionScan, command: command, reply: reply) }
            }
            let firsts = replies[0].array ?? [], tools = replies[1].array ?? []
            var sessions: [SessionSnapshot] = []
            sessions.reserveCapacity(scored.count)
            for (index, entry) in scored.enumerated() where index < firsts.count {
                // A session that ended or timed out between the two reads has no first-seen score any more.
                guard let first = firsts[index].double else { continue }
                let toolCalls = index < tools.count ? tools[index].double ?? 0 : 0
                sessions.append(SessionSnapshot(id: entry.member, firstSeen: first, lastSeen: entry.score, toolCalls: toolCalls, endedAt: nil))
            }
            body(sessions)
            if scored.count < sessionScanChunk { return }
            // The next step starts at the last score read, past the members already read at it.
            let last = scored[scored.count - 1]
            if last.score == low {
                seenAtLow += scored.count
            } else {
                low = last.score
                lowText = last.scoreText
                seenAtLow = scored.reversed().prefix { $0.score == low }.count
            }
        }
    }

    /// `ZRANGE … WITHSCORES` as (member, score) pairs: RESP3 nests them, RESP2 flattens them.
    static func scoredMembers(_ reply: RESPValue) -> [(member: String, score: Double, scoreText: String)] {
        let items = reply.array ?? []
        var result: [(member: String, score: Double, scoreText: String)] = []
        result.reserveCapacity(items.count)
        func append(_ member: RESPValue, _ score: RESPValue) {
            guard let name = member.string, let value = score.double else { return }
            result.append((name, value, score.string ?? String(value)))
        }
        if let first = items.first, first.array != nil {
            for pair in items { if let p = pair.array, p.count == 2 { append(p[0], p[1]) } }
        } else {
            for i in stride(from: 0, to: items.count - 1, by: 2) { append(items[i], items[i + 1]) }
        }
        return result
    }

    public func sessionFigures() async throws -> SessionFigures? {
        let fields = try await client.hgetall(keys.sessionFigures)
        guard let at = fields[SessionFiguresFields.computedAt].flatMap(Double.init),
              let active = fields[SessionFiguresFields.active].flatMap(Int.init) else { return nil }
        var figures = SessionFigures(computedAt: at)
        figures.active = active
        figures.durationSum = fields[SessionFiguresFields.durationSum].flatMap(Double.init) ?? 0
        figures.toolCallsSum = fields[SessionFiguresFields.toolCallsSum].flatMap(Double.init) ?? 0
        if let text = fields[SessionFiguresFields.toolsPerMinute], let data = Data(base64Encoded: text) {
            figures.toolsPerMinute = try QuantileSketch(serialized: Array(data))
        }
        return figures
    }

    public func score() async throws -> CompositeScore? {
        let fields = try await client.hgetall(keys.score)
        guard let at = fields["computed_at"].flatMap(Double.init), let token = fields["token"].flatMap(Int.init) else { return nil }
        // An empty `value` is a score written while the window held no data.
        return CompositeScore(value: fields["value"].flatMap(Double.init), computedAt: at, token: token)
    }

    public func storeLeaderFigures(score: CompositeScore?, sessions: SessionFigures?, token: Int) async throws -> Bool {
        var arguments: [RedisArgument] = [.integer(token)]
        func hash(_ fields: [(String, String)]) {
            arguments.append(.integer(fields.count))
            for (name, value) in fields { arguments += [.string(name), .string(value)] }
        }
        hash(score.map { [("value", $0.value.map { String($0) } ?? ""), ("computed_at", String($0.computedAt))] } ?? [])
        if let sessions {
            hash([
                (SessionFiguresFields.active, String(sessions.active)),
                (SessionFiguresFields.durationSum, String(sessions.durationSum)),
                (SessionFiguresFields.toolCallsSum, String(sessions.toolCallsSum)),
                (SessionFiguresFields.toolsPerMinute, Data(sessions.toolsPerMinute.serialized()).base64EncodedString()),
                (SessionFiguresFields.computedAt, String(sessions.computedAt)),
            ])
        } else {
            hash([])
        }
        let reply = try await client.evalScript(LeaderScripts.storeFenced, keys: [keys.score, keys.sessionFigures], arguments: arguments)
        return reply.int == 1
    }

    public func acquireLeadership(node: String, ttl: Duration) async throws -> Int? {
        let milliseconds = max(1, ttl.wholeMilliseconds)
        let reply = try await client.evalScript(LeaderScripts.acquire, keys: [keys.leader, keys.leaderToken], arguments: [.string(node), .integer(milliseconds)])
        return reply.isNull ? nil : reply.int
    }

    public func releaseLeadership(node: String) async throws {
        _ = try await client.evalScript(LeaderScripts.release, keys: [keys.leader], arguments: [.string(node)])
    }

    /// The field names of the session figures hash (``RedisKeys/sessionFigures``).
    enum SessionFiguresFields {
        static let active = "active"
        static let durationSum = "duration_sum"
        static let toolCallsSum = "tool_calls_sum"
        static let toolsPerMinute = "tools_per_minute"
        static let computedAt = "computed_at"
    }

    static func stringMap(_ reply: RESPValue) -> [String: String] {
        var result: [String: String] = [:]
        for entry in reply.mapEntries ?? [] {
            if let k = entry.key.string, let v = entry.value.string { result[k] = v }
        }
        return result
    }
}
