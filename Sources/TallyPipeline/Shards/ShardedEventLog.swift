/// The log of a sharded deployment as ingest, monitors and operators see it: every event goes to
/// the log of its session's shard (``ShardLayout/shard(ofSession:)``), and figures and dead letters
/// are summed over the shards. Workers read each shard's own ``EventLog``.
///
/// **Retries across shards.** A batch is split per shard and each part is appended atomically with
/// its own copy of the batch's `Idempotency-Key` record and its own dedupe ids. The key's home shard
/// (``ShardLayout/shard(ofIdempotencyKey:)``) always records the key and goes first; the other
/// parts are appended only after it, in parallel. So if any shard holds the key, its home shard does,
/// and a key reused with another body is refused there (`.conflict`) before anything is stored. When
/// one part fails the append throws (ingest answers 503) with the other parts stored; a retry with
/// the same key replays the parts stored and appends only the missing ones.
public struct ShardedEventLog: EventLogFront, DeadLetterStore {
    public let layout: ShardLayout
    /// Each shard's log, by index.
    public let shards: [any EventLog & DeadLetterStore]
    private let recordShardCount: (@Sendable (Int) async throws -> Void)?

    /// - Parameter recordShardCount: records the count on first start and refuses another one
    ///   (``RedisEventLog/recordShardCount(_:)``); nil where nothing outlives the process.
    public init(layout: ShardLayout, shards: [any EventLog & DeadLetterStore], recordShardCount: (@Sendable (Int) async throws -> Void)? = nil) {
        precondition(shards.count == layout.count, "one log per shard of the layout")
        self.layout = layout
        self.shards = shards
        self.recordShardCount = recordShardCount
    }

    /// Records (or checks) the shard count, then prepares every shard's log.
    public func prepare() async throws {
        try await recordShardCount?(layout.count)
        for shard in shards { try await shard.prepare() }
    }

    @discardableResult
    public func append(_ records: [EventRecord]) async throws -> [String] {
        if shards.count == 1 { return try await shards[0].append(records) }
        let parts = Dictionary(grouping: records.indices) { layout.shard(ofSession: records[$0].event.sessionID) }
        var ids = Array(repeating: "", count: records.count)
        let appended = try Self.successes(of: await Self.runToEnd(parts.map { shard, positions in
            let log = shards[shard]
            return { (positions, try await log.append(positions.map { records[$0] })) }
        }), storedBefore: 0)
        for part in appended {
            for (position, id) in zip(part.0, part.1) { ids[position] = id }
        }
        return ids
    }

    public func append(_ request: AppendRequest) async throws -> AppendOutcome {
        if shards.count == 1 { return try await shards[0].append(request) }
        var parts: [Int: (positions: [Int], request: AppendRequest)] = [:]
        for (position, record) in request.records.enumerated() {
            let shard = layout.shard(ofSession: record.event.sessionID)
            parts[shard, default: ([], AppendRequest(records: []))].positions.append(position)
            parts[shard]!.request.records.append(record)
            parts[shard]!.request.deduplicationIDs.append(request.deduplicationIDs[position])
        }
        for unstored in request.acceptedUnstored {
            parts[layout.shard(ofSession: unstored.sessionID), default: ([], AppendRequest(records: []))].request.acceptedUnstored.append(unstored)
        }
        var home: Int? = nil
        if let claim = request.idempotency {
            let shard = layout.shard(ofIdempotencyKey: claim.key)
            home = shard
            if parts[shard] == nil { parts[shard] = ([], AppendRequest(records: [])) }
            for shard in parts.keys { parts[shard]!.request.idempotency = claim }
        }
        var outcomes: [(positions: [Int], outcome: AppendOutcome)] = []
        if let home, let part = parts.removeValue(forKey: home) {
            let outcome = try await shards[home].append(part.request)
            if case .conflict = outcome { return outcome }
            outcomes.append((part.positions, outcome))
        }
        outcomes += try Self.successes(of: await Self.runToEnd(parts.map { shard, part in
            let log = shards[shard]
            return { (part.positions, try await log.append(part.request)) }
        }), storedBefore: outcomes.count)
        return Self.merge(outcomes, count: request.records.count)
    }

    /// Runs every part at once and each to its end, even when another fails: none is cancelled
    /// half-sent, so a retry has as little left to append as possible.
    private static func runToEnd<T: Sendable>(_ parts: [@Sendable () async throws -> T]) async -> [Result<T, any Error>] {
        await withTaskGroup(of: Result<T, any Error>.self) { group in
            for part in parts {
                group.addTask {
                    do { return .success(try await part()) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// The parts' results when all succeeded. Otherwise throws: the first error itself when no part
    /// was stored (`storedBefore` parts were, earlier), since it may say that nothing was; else
    /// ``IncompleteShardedAppend``.
    private static func successes<T>(of results: [Result<T, any Error>], storedBefore: Int) throws -> [T] {
        var stored: [T] = []
        var failures: [any Error] = []
        for result in results {
            switch result {
            case .success(let value): stored.append(value)
            case .failure(let error): failures.append(error)
            }
        }
        guard let failure = failures.first else { return stored }
        if stored.isEmpty && storedBefore == 0 { throw failure }
        throw IncompleteShardedAppend(storedParts: storedBefore + stored.count, failedParts: failures.count, firstFailure: failure)
    }

    /// One outcome for the whole batch: a conflict anywhere is a conflict; replays everywhere are a
    /// replay; otherwise the ids appended now (in batch order) and the duplicates' batch positions.
    static func merge(_ outcomes: [(positions: [Int], outcome: AppendOutcome)], count: Int) -> AppendOutcome {
        var ids = Array(repeating: "", count: count)
        var duplicates: [Int] = []
        var replayed: Int? = nil
        var appendedAny = false
        for (positions, outcome) in outcomes {
            switch outcome {
            case .conflict:
                return outcome
            case .replayed(let accepted):
                replayed = accepted
            case .appended(let appended, let left):
                appendedAny = true
                let skipped = Set(left)
                var next = appended.makeIterator()
                for (local, position) in positions.enumerated() where !skipped.contains(local) {
                    ids[position] = next.next() ?? ""
                }
                duplicates += left.map { positions[$0] }
            }
        }
        if !appendedAny, let replayed { return .replayed(acceptedCount: replayed) }
        return .appended(ids: ids.filter { !$0.isEmpty }, duplicates: duplicates.sorted())
    }

    /// Raw entries carry no session that Tally can trust: they go to the first shard.
    @discardableResult
    public func append(entries: [[(name: String, value: String)]]) async throws -> [String] {
        try await shards[0].append(entries: entries)
    }

    public func checkReachable() async throws {
        _ = try await eachShard(shards) { try await $0.checkReachable() }
    }

    public func appendRecordFigures() async throws -> AppendRecordFigures {
        try await eachShard(shards) { try await $0.appendRecordFigures() }.reduce(into: AppendRecordFigures()) { total, part in
            total.idempotencyKeys += part.idempotencyKeys
            total.idempotencyKeysEvicted += part.idempotencyKeysEvicted
            total.dedupeIDs += part.dedupeIDs
        }
    }

    /// Every shard's figures added up; the oldest pending age is the largest.
    public func figures() async throws -> LogFigures {
        try await shardFigures().reduce(into: LogFigures(length: 0, lag: 0, pending: 0, deadLetters: 0)) { total, part in
            total.length += part.length
            total.lag += part.lag
            total.pending += part.pending
            total.deadLetters += part.deadLetters
            total.oldestPendingAgeSeconds = max(total.oldestPendingAgeSeconds, part.oldestPendingAgeSeconds)
        }
    }

    /// Each shard's figures, by index.
    public func shardFigures() async throws -> [LogFigures] {
        try await eachShard(shards) { try await $0.figures() }
    }

    public func oldestWaitingAge() async throws -> Double? {
        try await eachShard(shards) { try await $0.oldestWaitingAge() }.compactMap { $0 }.max()
    }

    // MARK: dead letters

    /// Dead-letter ids name their shard when there are several: `<shard>/<id>`.
    public func qualified(_ id: String, shard: Int) -> String {
        shards.count == 1 ? id : "\(shard)/\(id)"
    }

    /// The shard and the id within it of a dead-letter id as ``deadLetters(count:)`` lists it.
    public func unqualified(_ id: String) throws(InvalidSetting) -> (shard: Int, id: String) {
        if shards.count == 1 { return (0, id) }
        let parts = id.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let shard = Int(parts[0]), shards.indices.contains(shard) else {
            throw InvalidSetting("dead-letter id '\(id)' names no shard: with \(shards.count) shards ids read <shard>/<id>, as `tally dlq list` prints them")
        }
        return (shard, String(parts[1]))
    }

    public func deadLetterCount() async throws -> Int {
        try await eachShard(shards) { try await $0.deadLetterCount() }.reduce(0, +)
    }

    /// The oldest `count` dead letters over every shard, oldest first, their ids qualified by shard.
    public func deadLetters(count: Int) async throws -> [DeadLetter] {
        let perShard = try await eachShard(shards) { try await $0.deadLetters(count: count) }
        var all: [(time: StreamID?, letter: DeadLetter)] = []
        for (shard, letters) in perShard.enumerated() {
            for var letter in letters {
                let time = StreamID(letter.id)
                letter.id = qualified(letter.id, shard: shard)
                all.append((time, letter))
            }
        }
        all.sort { ($0.time ?? StreamID(ms: 0, seq: 0)) < ($1.time ?? StreamID(ms: 0, seq: 0)) }
        return all.prefix(count).map(\.letter)
    }

    @discardableResult
    public func replayDeadLetters(ids: [String]?) async throws -> Int {
        guard let ids else { return try await eachShard(shards) { try await $0.replayDeadLetters(ids: nil) }.reduce(0, +) }
        var byShard: [Int: [String]] = [:]
        for id in ids {
            let (shard, local) = try unqualified(id)
            byShard[shard, default: []].append(local)
        }
        var moved = 0
        for (shard, local) in byShard.sorted(by: { $0.key < $1.key }) {
            moved += try await shards[shard].replayDeadLetters(ids: local)
        }
        return moved
    }

    @discardableResult
    public func purgeDeadLetters() async throws -> Int {
        try await eachShard(shards) { try await $0.purgeDeadLetters() }.reduce(0, +)
    }
}

/// A batch split over shards of which some parts were stored and some failed: the caller cannot
/// say "not stored". Retrying with the same `Idempotency-Key` (or the same event ids under dedupe)
/// appends only the missing parts.
public struct IncompleteShardedAppend: Error, CustomStringConvertible {
    public let storedParts: Int
    public let failedParts: Int
    public let firstFailure: any Error

    public var description: String {
        "\(storedParts) of the batch's \(storedParts + failedParts) shard parts were stored and \(failedParts) failed (\(firstFailure))"
    }
}
