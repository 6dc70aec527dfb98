/// The dead-letter operations an operator runs (`tally dlq list | replay | purge`).
///
/// A thin, documented front to a ``DeadLetterStore``'s calls, which do
/// the work atomically: replay re-appends an entry's original fields as a new
/// log entry (so it starts again with one delivery) and removes it from the
/// dead-letter stream in one step; purge deletes them all. Nothing here
/// acknowledges or drops an entry that is not in the dead-letter stream.
public struct DeadLetterQueue: Sendable {
    public let store: any DeadLetterStore

    public init(store: any DeadLetterStore) {
        self.store = store
    }

    /// Dead letters, oldest first (at most `count`).
    public func list(count: Int = 100) async throws -> [DeadLetter] {
        try await store.deadLetters(count: count)
    }

    /// Replays the dead letters with these ids (ids in the dead-letter stream); returns how many were replayed.
    @discardableResult
    public func replay(ids: [String]) async throws -> Int {
        try await store.replayDeadLetters(ids: ids)
    }

    /// Replays every dead letter; returns how many.
    @discardableResult
    public func replayAll() async throws -> Int {
        try await store.replayDeadLetters(ids: nil)
    }

    /// Deletes every dead letter; returns how many.
    @discardableResult
    public func purge() async throws -> Int {
        try await store.purgeDeadLetters()
    }

    /// How many dead letters there are.
    public func count() async throws -> Int {
        try await store.deadLetterCount()
    }
}
