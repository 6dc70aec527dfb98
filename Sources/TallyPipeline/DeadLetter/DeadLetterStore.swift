/// Where entries that failed too often wait for an operator: list, replay, purge.
///
/// Implemented by ``RedisEventLog`` (the `{tally}:dlq` stream) and ``MemoryEventLog``. Entries get
/// here only through a ``BatchCommitter``, in the same atomic step that acknowledges them.
public protocol DeadLetterStore: Sendable {
    /// How many dead letters there are.
    func deadLetterCount() async throws -> Int
    /// Dead letters, oldest first.
    func deadLetters(count: Int) async throws -> [DeadLetter]
    /// Appends dead letters (all when `ids` is nil) back to the log as new entries with their original
    /// fields (so with a fresh delivery count) and removes them from the dead-letter stream; returns how many.
    @discardableResult
    func replayDeadLetters(ids: [String]?) async throws -> Int
    /// Deletes every dead letter; returns how many.
    @discardableResult
    func purgeDeadLetters() async throws -> Int
}
