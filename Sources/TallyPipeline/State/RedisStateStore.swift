import TallyMetrics
import TallyRedis

/// The global ``StateStore`` on Redis: every worker and node of a deployment shares it.
///
/// Writes go through ``ApplyScript`` (atomic; the same script
/// ``RedisEventLog`` uses to apply and acknowledge). Reads merge the window's
/// bucket hashes in one pipelined round trip. Memory is bounded by key expiry
/// (buckets, sessions) and caps (tools, codes). Key layout: ``RedisKeys``.
public struct RedisStateStore: StateStore {
    public let client: any RedisClient
    public let keys: RedisKeys
    public let configuration: StateConfiguration

    public init(client: any RedisClient, keys: RedisKeys = RedisKeys(), configuration: StateConfiguration = .default) {
        self.client = client
        self.keys = keys
        self.configuration = configuration
    }

    public func apply(_ delta: StateDelta, now: Double) async throws {
        let payload = ApplyPayload(delta: delta, acknowledged: [], deadLetters: [], group: "", consumer: "", now: now, keys: keys, configuration: configuration)
        _ = try await ApplyScript.run(payload, on: client)
    }

    public func window(now: Double) async throws -> WindowSnapshot {
        let starts = configuration.windowBuckets(now: now)
        let replies = try await client.send(batch: starts.map { RedisCommand("HGETALL", .string(keys.bucket($0))) })
        var snapshot = WindowSnapshot()
        for reply in replies {
            if case .error(let message) = reply { throw RedisError.server(command: "HGETALL", message: message) }
            snapshot.merge(Self.bucket(from: Self.stringMap(reply)))
        }
        return snapshot
    }

    static func bucket(from fields: [String: String]) -> WindowBucketDelta {
        var bucket = WindowBucketDelta()
        var zero = 0.0
        var sum = 0.0
        for (name, text) in fields {
            guard let value = Double(text) else { continue }
            switch name {
            case "n": bucket.completions = value
            case "a": bucket.accepted = value
            case "sum": sum = value
            case "zero": zero = value
            default:
                if name.hasPrefix("b"), let index = Int(name.dropFirst()) {
                    bucket.latency.addBin(index: index, count: value)
                } else if name.hasPrefix("ts:") {
                    bucket.toolCalls[String(name.dropFirst(3)), default: OutcomeCounts()].success += value
                } else if name.hasPrefix("tf:") {
                    bucket.toolCalls[String(name.dropFirst(3)), default: OutcomeCounts()].failure += value
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

    public func activeSessions(now: Double) async throws -> [SessionSnapshot] {
        let since = now - Double(configuration.sessionTimeoutSeconds)
        let reply = try await client.send(RedisCommand("ZRANGEBYSCORE", .string(keys.activeSessions), .string(String(since)), "+inf"))
        let ids = (reply.array ?? []).compactMap(\.string)
        guard !ids.isEmpty else { return [] }
        let members = ids.map { RedisArgument.string($0) }
        let replies = try await client.send(batch: [
            RedisCommand("ZMSCORE", arguments: [.string(keys.activeSessions)] + members),
            RedisCommand("ZMSCORE", arguments: [.string(keys.sessionFirstSeen)] + members),
            RedisCommand("HMGET", arguments: [.string(keys.sessionToolCalls)] + members),
        ])
        for reply in replies {
            if case .error(let message) = reply { throw RedisError.server(command: "ZMSCORE", message: message) }
        }
        let lasts = replies[0].array ?? [], firsts = replies[1].array ?? [], tools = replies[2].array ?? []
        var sessions: [SessionSnapshot] = []
        for (index, id) in ids.enumerated() where index < lasts.count && index < firsts.count {
            // A session that ended or timed out between the two reads has no scores any more.
            guard let last = lasts[index].double, let first = firsts[index].double else { continue }
            let toolCalls = index < tools.count ? tools[index].double ?? 0 : 0
            sessions.append(SessionSnapshot(id: id, firstSeen: first, lastSeen: last, toolCalls: toolCalls, endedAt: nil))
        }
        return sessions.sorted { $0.id < $1.id }
    }

    public func score() async throws -> CompositeScore? {
        let fields = try await client.hgetall(keys.score)
        guard let at = fields["computed_at"].flatMap(Double.init), let token = fields["token"].flatMap(Int.init) else { return nil }
        // An empty `value` is a score written while the window held no data.
        return CompositeScore(value: fields["value"].flatMap(Double.init), computedAt: at, token: token)
    }

    public func storeScore(_ score: CompositeScore) async throws -> Bool {
        let value = score.value.map { String($0) } ?? ""
        let reply = try await client.evalScript(LeaderScripts.storeScore, keys: [keys.score],
                                                arguments: [.string(value), .string(String(score.computedAt)), .integer(score.token)])
        return reply.int == 1
    }

    public func acquireLeadership(node: String, ttl: Duration) async throws -> Int? {
        let milliseconds = max(1, Int(ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000))
        let reply = try await client.evalScript(LeaderScripts.acquire, keys: [keys.leader, keys.leaderToken], arguments: [.string(node), .integer(milliseconds)])
        return reply.isNull ? nil : reply.int
    }

    public func releaseLeadership(node: String) async throws {
        _ = try await client.evalScript(LeaderScripts.release, keys: [keys.leader], arguments: [.string(node)])
    }

    static func stringMap(_ reply: RESPValue) -> [String: String] {
        var result: [String: String] = [:]
        for entry in reply.mapEntries ?? [] {
            if let k = entry.key.string, let v = entry.value.string { result[k] = v }
        }
        return result
    }
}
