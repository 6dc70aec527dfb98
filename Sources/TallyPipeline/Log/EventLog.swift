/// The log as ingest, monitors and operators use it: appends with their retry-safety records,
/// figures and reachability. A single log is one (``EventLog``), and so is a set of shards
/// (``ShardedEventLog``), which routes each event to its session's shard and sums the figures.
public protocol EventLogFront: Sendable {
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
    /// Length, lag, pending and dead-letter figures.
    func figures() async throws -> LogFigures
    /// How long ago the oldest entry not yet acknowledged (pending or undelivered) was appended, in
    /// seconds on the log's clock, if the log can tell (nil by default).
    func oldestWaitingAge() async throws -> Double?
}

/// The durable log between ingest and workers: a stream read by one consumer group.
///
/// Implementations: ``RedisEventLog`` (Redis Streams, several processes) and
/// ``MemoryEventLog`` (one process); one conformance suite tests both.
/// Guarantees: `append` is all-or-nothing; delivery counts come from the log's
/// pending list; `trim` never removes an entry that is pending or not yet
/// delivered. Entries are acknowledged only by a ``BatchCommitter``, in the
/// step that applies them; dead letters are kept by a ``DeadLetterStore``.
public protocol EventLog: EventLogFront {
    /// Reads up to `count` entries for `consumer`; with `.new`, waits up to `block` for entries to arrive.
    /// Every entry returned counts as one more delivery.
    func read(consumer: String, from position: ReadPosition, count: Int, block: Duration?) async throws -> [LogEntry]
    /// Reads new entries as `read(consumer:from: .new, …)` does, with the fence their first commit may carry.
    func readNew(consumer: String, count: Int, block: Duration?) async throws -> LogRead
    /// Claims entries idle for at least `minIdle` for `consumer` (up to `count`, iterating the cursor);
    /// ids of deleted entries are acknowledged and counted.
    func claimIdle(consumer: String, minIdle: Duration, count: Int) async throws -> ClaimResult
    /// Delivery counts of pending entries (missing ids are not pending).
    func deliveryCounts(of ids: [String]) async throws -> [String: Int]
    /// Removes entries below the oldest pending id and the group's last-delivered id; returns how many.
    @discardableResult
    func trim() async throws -> Int
    /// How long ago these entries were appended, in seconds on the log's clock, for those the log can tell (none by default).
    func appendAges(ofEntries ids: [String]) async throws -> [String: Double]
}

extension EventLog {
    /// No fence: every commit checks ownership entry by entry.
    public func readNew(consumer: String, count: Int, block: Duration?) async throws -> LogRead {
        LogRead(entries: try await read(consumer: consumer, from: .new, count: count, block: block), fence: nil)
    }

    public func appendAges(ofEntries ids: [String]) async throws -> [String: Double] { [:] }
}

extension EventLogFront {
    public func oldestWaitingAge() async throws -> Double? { nil }
}
