/// The one way the shared state is written: a batch's delta applied, its dead letters moved and its
/// entries acknowledged in one atomic step, after checking that the consumer still owns every entry —
/// or nothing at all.
///
/// Implementations: ``RedisBatchCommitter`` (``ApplyScript``, one Lua step) and
/// ``MemoryBatchCommitter`` (one actor step over a ``MemoryEventLog`` and its ``MemoryStateStore``);
/// one conformance suite tests both. A commit never half-happens: it throws (``ApplyError`` when the
/// step refuses the batch's numbers or the stored state) having changed nothing, and the entries stay
/// pending. A dead letter keeps at most ``ApplyLimits/maxDeadLetterFields`` of the entry's fields.
public protocol BatchCommitter: Sendable {
    /// Commits `commit` for `consumer` (see ``CommitOutcome``). `now` (unix seconds) is the time the
    /// step runs at; nil means the state's own clock (Redis's `TIME`, read inside the step), which
    /// production code always uses, so that no node's clock decides.
    func commit(_ commit: BatchCommit, consumer: String, now: Double?) async throws -> CommitOutcome
}

extension BatchCommitter {
    /// Commits on the state's own clock.
    public func commit(_ commit: BatchCommit, consumer: String) async throws -> CommitOutcome {
        try await self.commit(commit, consumer: consumer, now: nil)
    }

    /// Applies `delta` with nothing to acknowledge, by the same atomic step (a backfill, a test);
    /// `now` as in ``commit(_:consumer:now:)``.
    public func apply(_ delta: StateDelta, now: Double? = nil) async throws {
        _ = try await commit(BatchCommit(acknowledged: [], delta: delta), consumer: "", now: now)
    }
}
