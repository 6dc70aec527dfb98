import Foundation

/// The embedded ``EventLog``: a stream, one consumer group and a dead-letter
/// stream in one actor, committing into a ``MemoryStateStore``.
///
/// Same semantics as ``RedisEventLog``: ids `n-0` in append order, pending
/// lists with delivery counts, ownership checked on commit. A commit runs
/// without suspension inside the actor, so it is atomic for every other
/// caller. Nothing is durable. Blocking reads suspend until an append, their
/// deadline or cancellation (they never block a thread).
public actor MemoryEventLog: EventLog, DeadLetterStore {
    package nonisolated let store: MemoryStateStore
    /// Entries by sequence number, from `firstSequence` on (trimming removes a prefix).
    private var entries = EntryArray()
    private var nextSequence = 1
    private var lastDelivered = 0
    private var pending: [Int: PendingEntry] = [:]
    private var deadLetterEntries: [(sequence: Int, fields: [(name: String, value: String)])] = []
    private var nextDeadLetterSequence = 1
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiterID = 0

    struct PendingEntry {
        var consumer: String
        var deliveries: Int
        var deliveredAt: ContinuousClock.Instant
    }

    private var appendRecords: AppendRecords
    /// Unix seconds: decides idempotency and dedupe windows (one process, one clock).
    private let clock: @Sendable () -> Double

    public init(store: MemoryStateStore, appendPolicy: AppendPolicy = .default,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.appendRecords = AppendRecords(policy: appendPolicy)
        self.clock = clock
    }

    public func prepare() async throws {}

    @discardableResult
    public func append(_ records: [EventRecord]) async throws -> [String] {
        try await append(entries: records.map(\.fields))
    }

    @discardableResult
    public func append(entries newEntries: [[(name: String, value: String)]]) async throws -> [String] {
        try LogEntry.checkAppendable(newEntries)
        return appendNow(newEntries)
    }

    private func appendNow(_ newEntries: [[(name: String, value: String)]]) -> [String] {
        defer { if !newEntries.isEmpty { wakeAll() } }
        return newEntries.map { fields in
            let sequence = nextSequence
            nextSequence += 1
            entries.append(fields)
            return Self.id(sequence)
        }
    }

    /// The idempotency check, the dedupe check, the append and both records, without suspending.
    public func append(_ request: AppendRequest) async throws -> AppendOutcome {
        let now = Int64((clock() * 1000).rounded(.down))
        if let claim = request.idempotency, let earlier = appendRecords.earlierOutcome(of: claim, now: now) {
            return earlier
        }
        let duplicates = appendRecords.duplicates(in: request, now: now)
        let leftOut = Set(duplicates)
        let kept = request.records.indices.filter { !leftOut.contains($0) }.map { request.records[$0].fields }
        let ids = appendNow(kept)
        appendRecords.record(request, now: now)
        return .appended(ids: ids, duplicates: duplicates)
    }

    /// Always reachable: the log lives in this process.
    public func checkReachable() async throws {}

    public func appendRecordFigures() async throws -> AppendRecordFigures {
        appendRecords.figures(now: Int64((clock() * 1000).rounded(.down)))
    }

    public func read(consumer: String, from position: ReadPosition, count: Int, block: Duration?) async throws -> [LogEntry] {
        switch position {
        case .pending(let after):
            let start = Self.sequence(after) ?? 0
            let mine = pending.filter { $0.key > start && $0.value.consumer == consumer }.keys.sorted().prefix(count)
            return mine.map { deliver($0, to: consumer) }
        case .new:
            let giveUpAt = ContinuousClock.now + (block ?? .zero)
            while true {
                if lastDelivered < nextSequence - 1 {
                    var result: [LogEntry] = []
                    var sequence = lastDelivered + 1
                    while result.count < count, sequence < nextSequence {
                        if entries[sequence] != nil { result.append(deliver(sequence, to: consumer)) }
                        lastDelivered = sequence
                        sequence += 1
                    }
                    if !result.isEmpty { return result }
                }
                guard block != nil, ContinuousClock.now < giveUpAt else { return [] }
                try Task.checkCancellation()
                await waitForAppend(until: giveUpAt)
            }
        }
    }

    /// Suspends until the next append, the deadline, or cancellation, whichever comes first.
    private func waitForAppend(until deadline: ContinuousClock.Instant) async {
        let id = nextWaiterID
        nextWaiterID += 1
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline)
            await self?.wake(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters[id] = continuation
            }
        } onCancel: {
            Task { await self.wake(id) }
        }
        timer.cancel()
    }

    private func wake(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume()
    }

    private func wakeAll() {
        let all = waiters
        waiters.removeAll()
        for continuation in all.values { continuation.resume() }
    }

    private func deliver(_ sequence: Int, to consumer: String) -> LogEntry {
        var entry = pending[sequence] ?? PendingEntry(consumer: consumer, deliveries: 0, deliveredAt: .now)
        entry.consumer = consumer
        entry.deliveries += 1
        entry.deliveredAt = .now
        pending[sequence] = entry
        return LogEntry(id: Self.id(sequence), fields: entries[sequence])
    }

    /// The committer that acknowledges this log's entries into its store.
    public nonisolated var committer: MemoryBatchCommitter { MemoryBatchCommitter(log: self) }

    /// ``MemoryBatchCommitter``'s step: one actor step, so atomic for every other caller.
    func commitNow(_ commit: BatchCommit, consumer: String, now: Double?) throws -> CommitOutcome {
        let now = now ?? store.clock()
        let ids = commit.acknowledged + commit.deadLetters.map(\.id)
        let lost = ids.filter { id in Self.sequence(id).flatMap { pending[$0] }?.consumer != consumer }
        if !lost.isEmpty { return .notOwned(lost) }
        // The same rule as Redis: every check first (the store checks the delta and its sums before it
        // changes anything, and throws ApplyError), then changes that cannot fail.
        let letters: [[(name: String, value: String)]] = commit.deadLetters.map { letter in
            let original = Self.sequence(letter.id).flatMap { entries[$0] } ?? []
            let kept = original.prefix(ApplyLimits.maxDeadLetterFields)
            let error = kept.count < original.count ? ApplyLimits.truncatedError(letter.error, fields: original.count) : letter.error
            return DeadLetter.fields(error: error, failedAt: String(now), deliveries: String(letter.deliveries), originalID: letter.id, original: kept)
        }
        try store.applyNow(commit.delta, now: now)
        for fields in letters {
            deadLetterEntries.append((nextDeadLetterSequence, fields))
            nextDeadLetterSequence += 1
        }
        for id in ids {
            if let sequence = Self.sequence(id) { pending[sequence] = nil }
        }
        return .committed
    }

    public func claimIdle(consumer: String, minIdle: Duration, count: Int) async throws -> ClaimResult {
        let threshold = ContinuousClock.now - minIdle
        var claimed: [LogEntry] = []
        var deleted = 0
        for sequence in pending.keys.sorted() where claimed.count < count {
            guard let entry = pending[sequence], entry.deliveredAt <= threshold else { continue }
            if entries[sequence] == nil {
                pending[sequence] = nil
                deleted += 1
            } else {
                claimed.append(deliver(sequence, to: consumer))
            }
        }
        return ClaimResult(entries: claimed, deletedAcknowledged: deleted)
    }

    public func deliveryCounts(of ids: [String]) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for id in ids {
            if let sequence = Self.sequence(id), let entry = pending[sequence] { result[id] = entry.deliveries }
        }
        return result
    }

    public func appendAges(ofEntries ids: [String]) async throws -> [String: Double] {
        let now = Date().timeIntervalSince1970
        var ages: [String: Double] = [:]
        for id in ids {
            if let sequence = Self.sequence(id), let time = entries.appendedAt(sequence) { ages[id] = max(0, now - time) }
        }
        return ages
    }

    /// The oldest pending entry or the first undelivered one, whichever is older.
    public func oldestWaitingAge() async throws -> Double? {
        var oldest = pending.keys.min()
        if nextSequence - 1 > lastDelivered { oldest = min(oldest ?? Int.max, lastDelivered + 1) }
        return oldest.flatMap { entries.appendedAt($0) }.map { max(0, Date().timeIntervalSince1970 - $0) }
    }

    public func figures() async throws -> LogFigures {
        // Only trimming removes entries, and only below the last delivered one.
        let undelivered = nextSequence - 1 - lastDelivered
        let oldestAppend = pending.keys.min().flatMap { entries.appendedAt($0) }
        let oldestAge = oldestAppend.map { max(0, Date().timeIntervalSince1970 - $0) } ?? 0
        return LogFigures(length: entries.count, lag: undelivered, pending: pending.count, deadLetters: deadLetterEntries.count,
                          oldestPendingAgeSeconds: oldestAge)
    }

    @discardableResult
    public func trim() async throws -> Int {
        let limit = min(pending.keys.min() ?? Int.max, lastDelivered)
        return entries.removeAll(below: limit)
    }

    public func deadLetterCount() async throws -> Int {
        deadLetterEntries.count
    }

    public func deadLetters(count: Int) async throws -> [DeadLetter] {
        deadLetterEntries.prefix(count).map { DeadLetter(entryID: Self.id($0.sequence), fields: $0.fields) }
    }

    @discardableResult
    public func replayDeadLetters(ids: [String]?) async throws -> Int {
        let wanted = ids.map { Set($0.compactMap(Self.sequence)) }
        let chosen = deadLetterEntries.filter { wanted?.contains($0.sequence) ?? true }
        _ = appendNow(chosen.map { DeadLetter(entryID: Self.id($0.sequence), fields: $0.fields).fields })
        let replayed = Set(chosen.map(\.sequence))
        deadLetterEntries.removeAll { replayed.contains($0.sequence) }
        return chosen.count
    }

    @discardableResult
    public func purgeDeadLetters() async throws -> Int {
        defer { deadLetterEntries.removeAll() }
        return deadLetterEntries.count
    }

    /// The log's entries, pending list and dead letters, and the store's state, as text: tests compare
    /// it to show that a refused commit changed nothing.
    func dump() -> String {
        let pendingList = pending.keys.sorted().map { "\($0): \(String(reflecting: pending[$0]!))" }
        return [String(reflecting: entries), "\(nextSequence) \(lastDelivered)", pendingList.joined(separator: "\n"),
                String(reflecting: deadLetterEntries), "\(nextDeadLetterSequence)", store.stateDump].joined(separator: "\n")
    }

    static func id(_ sequence: Int) -> String { "\(sequence)-0" }

    static func sequence(_ id: String) -> Int? {
        var value = 0
        var digits = 0
        for byte in id.utf8 {
            if byte == UInt8(ascii: "-") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}

/// The log's entries in sequence order: an array and the sequence number of its first element.
struct EntryArray {
    private var storage: [[(name: String, value: String)]] = []
    /// Unix seconds at which each entry was appended, parallel to `storage`.
    private var appendTimes: [Double] = []
    private var firstSequence = 1

    var count: Int { storage.count }

    mutating func append(_ fields: [(name: String, value: String)]) {
        storage.append(fields)
        appendTimes.append(Date().timeIntervalSince1970)
    }

    /// When the entry was appended (nil once trimmed).
    func appendedAt(_ sequence: Int) -> Double? {
        let index = sequence - firstSequence
        return index >= 0 && index < appendTimes.count ? appendTimes[index] : nil
    }

    subscript(sequence: Int) -> [(name: String, value: String)]? {
        let index = sequence - firstSequence
        return index >= 0 && index < storage.count ? storage[index] : nil
    }

    /// Removes entries with a sequence below `limit`; returns how many.
    mutating func removeAll(below limit: Int) -> Int {
        let n = max(0, min(storage.count, limit - firstSequence))
        storage.removeFirst(n)
        appendTimes.removeFirst(n)
        firstSequence += n
        return n
    }
}
