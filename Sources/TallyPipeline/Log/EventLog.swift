/// The durable log between ingest and workers: a stream read by one consumer group.
///
/// Implementations: ``RedisEventLog`` (Redis Streams, several processes) and
/// ``MemoryEventLog`` (one process); one conformance suite tests both.
/// Guarantees: `append` is all-or-nothing; `commit` checks that the consumer
/// still owns every entry and then applies the delta, acknowledges the entries
/// and moves the dead letters in one atomic step — or does nothing at all;
/// delivery counts come from the log's pending list; `trim` never removes an
/// entry that is pending or not yet delivered.
public protocol EventLog: Sendable {
    /// Creates the stream and consumer group when missing.
    func prepare() async throws
    /// Appends the records in one atomic step; returns their ids in order.
    @discardableResult
    func append(_ records: [EventRecord]) async throws -> [String]
    /// Appends an ingest batch in one atomic step together with its retry-safety records: an
    /// `Idempotency-Key` already recorded answers `.replayed` or `.conflict` and stores nothing;
    /// records whose client id was appended within the dedupe window are left out and counted.
    func append(_ request: AppendRequest) async throws -> AppendOutcome
    /// Throws when the log cannot be reached: one cheap round trip (the ingest breaker's probe).
    func checkReachable() async throws
    /// How many idempotency keys and dedupe ids the log remembers now.
    func appendRecordFigures() async throws -> AppendRecordFigures
    /// Appends raw entries in one atomic step (replay, and tests that write poison entries).
    @discardableResult
    func append(entries: [[(name: String, value: String)]]) async throws -> [String]
    /// Reads up to `count` entries for `consumer`; with `.new`, waits up to `block` for entries to arrive.
    /// Every entry returned counts as one more delivery.
    func read(consumer: String, from position: ReadPosition, count: Int, block: Duration?) async throws -> [LogEntry]
    /// Applies and acknowledges atomically after checking ownership (see ``CommitOutcome``). `now`
    /// (unix seconds) is the time the step runs at; nil means the log's own clock (Redis's `TIME`,
    /// read inside the step), which production code always uses, so no node's clock decides.
    /// A commit never half-happens: it throws (``ApplyError`` when the apply step refuses the batch's
    /// numbers or the stored state) having changed nothing, and the entries stay pending. A dead letter
    /// keeps at most ``ApplyLimits/maxDeadLetterFields`` of the entry's fields.
    func commit(_ commit: BatchCommit, consumer: String, now: Double?) async throws -> CommitOutcome
    /// Claims entries idle for at least `minIdle` for `consumer` (up to `count`, iterating the cursor);
    /// ids of deleted entries are acknowledged and counted.
    func claimIdle(consumer: String, minIdle: Duration, count: Int) async throws -> ClaimResult
    /// Delivery counts of pending entries (missing ids are not pending).
    func deliveryCounts(of ids: [String]) async throws -> [String: Int]
    /// Length, lag, pending and dead-letter figures.
    func figures() async throws -> LogFigures
    /// Removes entries below the oldest pending id and the group's last-delivered id; returns how many.
    @discardableResult
    func trim() async throws -> Int
    /// Dead letters, oldest first.
    func deadLetters(count: Int) async throws -> [DeadLetter]
    /// Appends dead letters (all when `ids` is nil) back to the log as new entries with their original
    /// fields (so with a fresh delivery count) and removes them from the dead-letter stream; returns how many.
    @discardableResult
    func replayDeadLetters(ids: [String]?) async throws -> Int
    /// Deletes every dead letter; returns how many.
    @discardableResult
    func purgeDeadLetters() async throws -> Int
    /// How long ago these entries were appended, in seconds on the log's clock, for those the log can tell (none by default).
    func appendAges(ofEntries ids: [String]) async throws -> [String: Double]
    /// How long ago the oldest entry not yet acknowledged (pending or undelivered) was appended, in
    /// seconds on the log's clock, if the log can tell (nil by default).
    func oldestWaitingAge() async throws -> Double?
}

extension EventLog {
    public func appendAges(ofEntries ids: [String]) async throws -> [String: Double] { [:] }
    public func oldestWaitingAge() async throws -> Double? { nil }

    /// Applies and acknowledges on the log's own clock (see ``commit(_:consumer:now:)``).
    public func commit(_ commit: BatchCommit, consumer: String) async throws -> CommitOutcome {
        try await self.commit(commit, consumer: consumer, now: nil)
    }
}
