import Foundation
import Logging
import TallyRedis

/// The production ``EventLog``: Redis Streams (`{tally}:events`, group
/// `tally-workers`, dead letters `{tally}:dlq`), shared by any number of
/// worker processes.
///
/// Entries are acknowledged by ``RedisBatchCommitter`` (``ApplyScript``:
/// ownership check, state changes, dead letters and `XACK` in one atomic
/// step; ``committer`` is the one for this log). Blocking reads go through the client's
/// `sendBlocking`, which on a pool uses a dedicated connection. Trimming
/// stays below the oldest pending id and every group's last-delivered id.
public struct RedisEventLog: EventLog, DeadLetterStore {
    package let client: any RedisClient
    public let keys: RedisKeys
    public let configuration: StateConfiguration
    /// Idempotency and dedupe windows for ``append(_:)-(AppendRequest)``.
    public let appendPolicy: AppendPolicy
    /// When an append counts as stored: on the primary, or on its replicas too (`WAIT`).
    public let durability: AppendDurability
    /// Whether ``prepare()`` accepts a server whose `maxmemory-policy` may evict keys (with a warning).
    public let allowEviction: Bool
    public let logger: Logger

    public init(client: any RedisClient, keys: RedisKeys = RedisKeys(), configuration: StateConfiguration = .default,
                appendPolicy: AppendPolicy = .default, durability: AppendDurability = .local, allowEviction: Bool = false,
                logger: Logger = Logger(label: "tally.pipeline.log")) {
        self.client = client
        self.keys = keys
        self.configuration = configuration
        self.appendPolicy = appendPolicy
        self.durability = durability
        self.allowEviction = allowEviction
        self.logger = logger
    }

    /// The committer that acknowledges this log's entries (same client, keys and configuration).
    public var committer: RedisBatchCommitter {
        RedisBatchCommitter(client: client, keys: keys, configuration: configuration)
    }

    /// Checks the server as ``prepare()`` does, then records `layout`'s shard count at
    /// ``RedisKeys/shardCount`` of these keys (the layout's global keys) unless one is recorded; throws ``RedisPreflight/Refusal/shardCountDiffers(stored:configured:)``
    /// when another count is. A deployment from before shards were recorded that still has events
    /// under these keys counts as one shard.
    public func recordShardCount(_ count: Int) async throws {
        // Nothing is written on a server that ``prepare()`` would refuse.
        try await RedisPreflight.check(client.keyless(onNodeOf: keys.events), allowEviction: allowEviction, logger: logger)
        try await shardCount(count, record: true)
    }

    /// Throws ``RedisPreflight/Refusal/shardCountDiffers(stored:configured:)`` when the deployment runs
    /// another shard count than `count`, as ``recordShardCount(_:)`` would, but writes nothing (for
    /// operator commands: `tally dlq`, `tally shards`). Nothing recorded and no single-shard stream
    /// is a deployment that has not started: any count passes.
    public func checkShardCount(_ count: Int) async throws {
        try await shardCount(count, record: false)
    }

    /// The deployment's shard count by ``LogScripts/shardCount`` (recorded when `record` and none
    /// is), compared with `count`.
    private func shardCount(_ count: Int, record: Bool) async throws {
        let reply = try await client.evalScript(LogScripts.shardCount, keys: [keys.shardCount, keys.events],
                                                arguments: [.integer(count), .string(record ? "record" : "check")])
        guard let stored = reply.string.flatMap(Int.init) ?? reply.int else {
            throw PipelineReplyError(step: .prepare, command: "EVALSHA", reply: reply)
        }
        if stored != count { throw RedisPreflight.Refusal.shardCountDiffers(stored: stored, configured: count) }
    }

    /// Checks the server (``RedisPreflight``: Redis ≥ 7.0, and no eviction unless ``allowEviction``;
    /// throws a ``RedisPreflight/Refusal`` otherwise), records the settings every node must share
    /// (the first node to start writes them; a node with other settings is refused), then creates
    /// the stream and group (from the beginning of the stream).
    public func prepare() async throws {
        // On a cluster, the node that holds the log's keys is the one that must qualify.
        try await RedisPreflight.check(client.keyless(onNodeOf: keys.events), allowEviction: allowEviction, logger: logger)
        let settings = configuration.sharedSettings
        _ = try await client.set(keys.settings, to: .string(settings), condition: .ifNotExists)
        if let stored = try await client.get(keys.settings), stored != settings {
            throw RedisPreflight.Refusal.settingsDiffer(key: keys.settings, stored: stored, configured: settings)
        }
        // The fence first: a group created again (after the server lost it) delivers old entries
        // anew, and a commit fenced before that must not count them a second time.
        _ = try await client.evalScript(LogScripts.advanceFence, keys: [keys.deliveryFence])
        try await client.xgroupCreate(keys.events, group: keys.group, startID: "0", makeStream: true)
    }

    /// The server's `maxmemory-policy` (Tally needs `noeviction`).
    public func evictionPolicy() async throws -> String? {
        try await client.configGet("maxmemory-policy")["maxmemory-policy"]
    }

    @discardableResult
    public func append(_ records: [EventRecord]) async throws -> [String] {
        try await append(entries: records.map(\.fields))
    }

    /// One `XADD` per entry in one transaction (`MULTI` … `EXEC`, then `WAIT` under replicated
    /// durability): all appended or none. The `XADD`s share one key and their sizes are checked
    /// here, so what refuses one (the key holds another type, a read-only replica, `OOM` at `EXEC`)
    /// refuses them all; should one fail anyway, the error is thrown, so the batch is retried and
    /// the others' entries are delivered twice rather than lost. A transaction costs the server
    /// about a third less CPU per entry than the same appends made from a script (`docs/redis-layout.md`).
    @discardableResult
    public func append(entries: [[(name: String, value: String)]]) async throws -> [String] {
        guard !entries.isEmpty else { return [] }
        try LogEntry.checkAppendable(entries)
        let commands = entries.map { fields in RedisCommand.xadd(keys.events, fields: fields.map { ($0.name, .string($0.value)) }) }
        switch durability {
        case .local:
            return try await client.sendTransaction(commands, replicas: 0, timeout: .zero).replies.map(Self.appendedID)
        case .replicated(let replicas, let timeout):
            let (written, acknowledged) = try await client.sendTransaction(commands, replicas: replicas, timeout: timeout)
            let ids = try written.map(Self.appendedID)
            guard acknowledged >= replicas else { throw ReplicationTimeout(required: replicas, acknowledged: acknowledged) }
            return ids
        }
    }

    /// An `XADD` reply of a transaction: the new entry's id, or its error thrown.
    private static func appendedID(_ reply: RESPValue) throws -> String {
        if case .error(let message) = reply { throw RedisError.server(command: "XADD", message: message) }
        guard let id = reply.string else { throw PipelineReplyError(step: .append, command: "XADD", reply: reply) }
        return id
    }

    /// Runs an append script as ``durability`` asks: alone, or followed by `WAIT` on its connection.
    private func runAppend(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RESPValue {
        switch durability {
        case .local:
            return try await client.evalScript(script, keys: keys, arguments: arguments)
        case .replicated(let replicas, let timeout):
            let (reply, acknowledged) = try await client.evalScriptDurably(script, keys: keys, arguments: arguments, replicas: replicas, timeout: timeout)
            guard acknowledged >= replicas else { throw ReplicationTimeout(required: replicas, acknowledged: acknowledged) }
            return reply
        }
    }

    /// One `EVALSHA` of ``LogScripts/appendOnce``: the idempotency check, the dedupe check, the
    /// append and both records, on Redis's clock.
    public func append(_ request: AppendRequest) async throws -> AppendOutcome {
        let dedupe = appendPolicy.dedupeSliceMilliseconds > 0
        if request.idempotency == nil && !dedupe {
            // Nothing to check or record: the plain append.
            return .appended(ids: try await append(request.records), duplicates: [])
        }
        var ids = JSONWriter()
        var unstored = JSONWriter()
        ids.beginArray()
        unstored.beginArray()
        if dedupe {
            for id in request.deduplicationIDs { ids.string(id ?? "") }
            for event in request.acceptedUnstored { unstored.string(event.id) }
        }
        ids.endArray()
        unstored.endArray()
        let claim = request.idempotency
        var scriptKeys: [String] = [keys.events, keys.idempotencyKeys, keys.idempotencyExpiry, keys.idempotencyEvicted, keys.dedupeSlices]
        for position in 0...AppendPolicy.dedupeSlices { scriptKeys.append(keys.dedupeSlice(position)) }
        var arguments: [RedisArgument] = [.string(ids.text), .string(unstored.text)]
        arguments.append(.string(claim?.key ?? ""))
        arguments.append(.string(claim?.fingerprint ?? ""))
        arguments.append(.integer(claim?.acceptedCount ?? 0))
        arguments.append(.integer(Int(appendPolicy.idempotencyWindowMilliseconds)))
        arguments.append(.integer(Int(appendPolicy.maxIdempotencyKeys)))
        arguments.append(.integer(Int(appendPolicy.dedupeSliceMilliseconds)))
        let entries = request.records.map(\.fields)
        try LogEntry.checkAppendable(entries)
        arguments.append(contentsOf: LogScripts.entryArguments(entries))
        let reply = try await runAppend(LogScripts.appendOnce, keys: scriptKeys, arguments: arguments)
        guard let parts = reply.array, parts.count >= 2, let status = parts[0].int else {
            throw PipelineReplyError(step: .append, command: "EVALSHA", reply: reply)
        }
        switch status {
        case 1: return .replayed(acceptedCount: parts[1].int ?? 0)
        case 2: return .conflict(acceptedCount: parts[1].int ?? 0)
        default:
            let ids: [String] = parts.dropFirst(2).compactMap { $0.string }
            let duplicates: [Int] = (parts[1].array ?? []).compactMap { $0.int }
            return .appended(ids: ids, duplicates: duplicates)
        }
    }

    /// A `PING` through the client (the ingest breaker's probe).
    public func checkReachable() async throws {
        _ = try await client.ping()
    }

    /// Remembered idempotency keys, early evictions and dedupe ids (`ZCARD`, `GET`, `SCARD` of the ring).
    public func appendRecordFigures() async throws -> AppendRecordFigures {
        let commands = [
            RedisCommand("ZCARD", .string(keys.idempotencyExpiry)),
            RedisCommand("GET", .string(keys.idempotencyEvicted)),
        ] + (0...AppendPolicy.dedupeSlices).map { RedisCommand("SCARD", .string(keys.dedupeSlice($0))) }
        let replies = try await client.send(batch: commands)
        for (command, reply) in zip(commands, replies) {
            if case .error = reply { throw PipelineReplyError(step: .appendRecordFigures, command: command.name, reply: reply) }
        }
        return AppendRecordFigures(
            idempotencyKeys: replies[0].int ?? 0,
            idempotencyKeysEvicted: replies[1].string.flatMap { Int($0) } ?? 0,
            dedupeIDs: replies.dropFirst(2).reduce(0) { $0 + ($1.int ?? 0) }
        )
    }

    public func read(consumer: String, from position: ReadPosition, count: Int, block: Duration?) async throws -> [LogEntry] {
        let reads: [RedisStreamRead]
        switch position {
        case .pending(let after):
            reads = try await client.xreadgroup(group: keys.group, consumer: consumer, streams: [(keys.events, after)], count: count)
        case .new:
            reads = try await client.xreadgroup(group: keys.group, consumer: consumer, streams: [(keys.events, ">")], count: count, block: block)
        }
        return reads.flatMap(\.entries).map(Self.entry)
    }

    /// `GET` of the fence, then `XREADGROUP … >`: the fence is read before the entries are delivered.
    public func readNew(consumer: String, count: Int, block: Duration?) async throws -> LogRead {
        let fence = try await client.get(keys.deliveryFence)
        return LogRead(entries: try await read(consumer: consumer, from: .new, count: count, block: block), fence: fence)
    }

    static func entry(_ entry: RedisStreamEntry) -> LogEntry {
        LogEntry(id: entry.id, fields: entry.fields?.map { (name: $0.name, value: $0.value) })
    }

    public func claimIdle(consumer: String, minIdle: Duration, count: Int) async throws -> ClaimResult {
        var cursor = "0-0"
        var entries: [LogEntry] = []
        var deleted = 0
        // XAUTOCLAIM scans a bounded part of the pending list per call: follow the cursor (bounded too).
        for _ in 0..<64 {
            let result = try await client.xautoclaim(keys.events, group: keys.group, consumer: consumer, minIdle: minIdle,
                                                     start: cursor, count: max(1, count - entries.count))
            entries += result.entries.map(Self.entry)
            if !result.deletedIDs.isEmpty {
                _ = try await client.xack(keys.events, group: keys.group, ids: result.deletedIDs)
                deleted += result.deletedIDs.count
            }
            cursor = result.nextCursor
            if cursor == "0-0" || entries.count >= count { break }
        }
        return ClaimResult(entries: entries, deletedAcknowledged: deleted)
    }

    public func deliveryCounts(of ids: [String]) async throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let replies = try await client.send(batch: ids.map { RedisCommand("XPENDING", .string(keys.events), .string(keys.group), .string($0), .string($0), 1) })
        var counts: [String: Int] = [:]
        for reply in replies {
            guard let line = reply.array?.first?.array, line.count == 4, let id = line[0].string, let n = line[3].int else { continue }
            counts[id] = n
        }
        return counts
    }

    public func figures() async throws -> LogFigures {
        let length = try await client.xlen(keys.events)
        let group = try await client.xinfoGroups(keys.events).first { $0.name == keys.group }
        let pending = group?.pending ?? 0
        // XINFO GROUPS reports no lag after XDEL: fall back to the pending count. Without the group
        // (a server that lost it), nothing has been delivered: every entry waits.
        let lag = group == nil ? length : (group?.lag ?? pending)
        let dead = try await client.xlen(keys.deadLetters)
        var oldestAge = 0.0
        if pending > 0, let smallest = try await client.xpending(keys.events, group: keys.group).smallestID, let id = StreamID(smallest) {
            oldestAge = max(0, try await redisTime() - Double(id.ms) / 1000)
        }
        return LogFigures(length: length, lag: lag, pending: pending, deadLetters: dead, oldestPendingAgeSeconds: oldestAge)
    }

    /// Redis's `TIME`, unix seconds: ages are measured on the clock that stamped the ids.
    func redisTime() async throws -> Double {
        try await RedisStateStore.serverTime(client, keys: keys)
    }

    /// Stream ids start with the append time in milliseconds (Redis's clock): one `TIME` round trip.
    public func appendAges(ofEntries ids: [String]) async throws -> [String: Double] {
        guard !ids.isEmpty else { return [:] }
        let now = try await redisTime()
        var ages: [String: Double] = [:]
        for id in ids {
            if let streamID = StreamID(id) { ages[id] = max(0, now - Double(streamID.ms) / 1000) }
        }
        return ages
    }

    /// The smaller of the oldest pending id and the first entry after the group's last-delivered id.
    public func oldestWaitingAge() async throws -> Double? {
        var oldest = try await client.xpending(keys.events, group: keys.group).smallestID.flatMap(StreamID.init)
        if let group = try await client.xinfoGroups(keys.events).first(where: { $0.name == keys.group }),
           let next = try await client.xrange(keys.events, from: "(" + group.lastDeliveredID, count: 1).first {
            oldest = StreamID.min(oldest, StreamID(next.id))
        }
        guard let oldest else { return nil }
        return max(0, try await redisTime() - Double(oldest.ms) / 1000)
    }

    @discardableResult
    public func trim() async throws -> Int {
        var floor: StreamID? = nil
        let groups = try await client.xinfoGroups(keys.events)
        for group in groups {
            floor = StreamID.min(floor, StreamID(group.lastDeliveredID))
            let summary = try await client.xpending(keys.events, group: group.name)
            if let smallest = summary.smallestID { floor = StreamID.min(floor, StreamID(smallest)) }
        }
        guard let floor, floor > StreamID(ms: 0, seq: 0) else { return 0 }
        return try await client.xtrim(keys.events, .minID(floor.description, approximate: false))
    }

    public func deadLetterCount() async throws -> Int {
        try await client.xlen(keys.deadLetters)
    }

    public func deadLetters(count: Int) async throws -> [DeadLetter] {
        try await client.xrange(keys.deadLetters, count: count).map { entry in
            DeadLetter(entryID: entry.id, fields: (entry.fields ?? []).map { (name: $0.name, value: $0.value) })
        }
    }

    @discardableResult
    public func replayDeadLetters(ids: [String]?) async throws -> Int {
        var moved = 0
        if let ids {
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                moved += try await replay(chunk)
            }
            return moved
        }
        while true {
            let chunk = try await client.xrange(keys.deadLetters, count: 500).map(\.id)
            if chunk.isEmpty { return moved }
            moved += try await replay(chunk)
        }
    }

    private func replay(_ ids: [String]) async throws -> Int {
        let reply = try await client.evalScript(LogScripts.replay, keys: [keys.deadLetters, keys.events], arguments: ids.map { .string($0) })
        return reply.int ?? 0
    }

    @discardableResult
    public func purgeDeadLetters() async throws -> Int {
        try await client.evalScript(LogScripts.purge, keys: [keys.deadLetters]).int ?? 0
    }
}
