/// The ``BatchCommitter`` of the embedded backend: one step of the ``MemoryEventLog`` actor checks
/// ownership, applies the delta to its ``MemoryStateStore`` (every check before any change, as on
/// Redis), keeps the dead letters and removes the entries from the pending list.
public struct MemoryBatchCommitter: BatchCommitter {
    public let log: MemoryEventLog

    public init(log: MemoryEventLog) {
        self.log = log
    }

    public func commit(_ commit: BatchCommit, consumer: String, now: Double?) async throws -> CommitOutcome {
        try await log.commitNow(commit, consumer: consumer, now: now)
    }
}
