/// One entry of the event log: its id and fields. `fields` is nil for an
/// entry deleted from the log while still pending (there is nothing to apply).
public struct LogEntry: Sendable {
    public var id: String
    public var fields: [(name: String, value: String)]?

    public init(id: String, fields: [(name: String, value: String)]?) {
        self.id = id
        self.fields = fields
    }

    /// The most fields an appended entry may have. Redis's Lua cannot pass many more to one `XADD`
    /// (its `unpack` fails past about 8,000 values), and an append must not fail half-way.
    public static let maxFields = 3_000

    /// Refuses a batch to append, before anything is written, when one of its entries has no
    /// field or more than ``maxFields``.
    static func checkAppendable(_ entries: [[(name: String, value: String)]]) throws(UnappendableEntry) {
        if let index = entries.firstIndex(where: { $0.isEmpty || $0.count > maxFields }) {
            throw UnappendableEntry(index: index, fieldCount: entries[index].count)
        }
    }
}

/// A batch to append held an entry with no field or more than ``LogEntry/maxFields``; nothing
/// of the batch was appended.
public struct UnappendableEntry: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry's position in the batch, from 0.
    public let index: Int
    public let fieldCount: Int

    package init(index: Int, fieldCount: Int) {
        self.index = index
        self.fieldCount = fieldCount
    }

    public var description: String {
        "entry \(index) of the batch has \(fieldCount) fields; an entry needs 1 to \(LogEntry.maxFields); nothing was appended"
    }
}

/// Where a consumer reads: its own pending entries after an id (`0` to start), or new entries (`>`).
public enum ReadPosition: Sendable, Hashable {
    case pending(after: String)
    case new
}

/// New entries (`>`) and the log's delivery fence as it was before they were delivered.
///
/// The first commit of exactly these entries may carry the fence (``BatchCommit/fence``): while it
/// is unchanged, no other commit can have applied any of them, so the committer skips checking
/// ownership entry by entry. Every commit without a fence that acknowledges entries (a retry, a
/// claimed batch, entries re-read after a restart) changes it, and so does creating the group.
public struct LogRead: Sendable {
    public var entries: [LogEntry]
    /// Nil when the log keeps no fence (the memory log checks ownership in one step anyway).
    public var fence: String?

    public init(entries: [LogEntry], fence: String?) {
        self.entries = entries
        self.fence = fence
    }
}

/// An entry to move to the dead-letter stream, with the reason and its delivery count.
public struct DeadLetterRequest: Sendable, Hashable {
    public var id: String
    public var error: String
    public var deliveries: Int

    public init(id: String, error: String, deliveries: Int) {
        self.id = id
        self.error = error
        self.deliveries = deliveries
    }
}

/// What a worker commits for one batch, in one atomic step: the delta of the
/// `acknowledged` entries, their acknowledgement, and the entries moved to the
/// dead-letter stream (acknowledged too).
public struct BatchCommit: Sendable {
    public var acknowledged: [String]
    public var delta: StateDelta
    public var deadLetters: [DeadLetterRequest]
    /// The fence of the read that delivered every one of these entries (``LogRead/fence``), given
    /// only on the first commit of that read's batch; nil makes the committer check ownership
    /// entry by entry (and, when it acknowledges anything, change the fence).
    public var fence: String?

    public init(acknowledged: [String], delta: StateDelta, deadLetters: [DeadLetterRequest] = [], fence: String? = nil) {
        self.acknowledged = acknowledged
        self.delta = delta
        self.deadLetters = deadLetters
        self.fence = fence
    }

    public var isEmpty: Bool { acknowledged.isEmpty && deadLetters.isEmpty }
}

/// The result of a commit.
public enum CommitOutcome: Sendable, Hashable {
    /// Everything was applied and acknowledged.
    case committed
    /// These entries are no longer pending for the consumer (claimed by another, or already
    /// acknowledged): nothing at all was applied; commit again without them.
    case notOwned([String])
}

/// What claiming idle entries found.
public struct ClaimResult: Sendable {
    /// Entries now delivered to the claiming consumer (delivery count raised by one).
    public var entries: [LogEntry]
    /// Pending ids whose entries no longer exist; they were acknowledged.
    public var deletedAcknowledged: Int

    public init(entries: [LogEntry], deletedAcknowledged: Int) {
        self.entries = entries
        self.deletedAcknowledged = deletedAcknowledged
    }
}

/// The log's global figures.
public struct LogFigures: Sendable, Hashable, Codable {
    /// Entries in the log.
    public var length: Int
    /// Entries not yet delivered to the group (falls back to `pending` when Redis cannot tell).
    public var lag: Int
    /// Entries delivered and not acknowledged.
    public var pending: Int
    /// Entries in the dead-letter stream.
    public var deadLetters: Int
    /// Seconds since the oldest pending (delivered, unacknowledged) entry was
    /// appended; 0 when nothing is pending. On Redis the append time is the
    /// entry id's, from the Redis server's clock.
    public var oldestPendingAgeSeconds: Double

    public init(length: Int, lag: Int, pending: Int, deadLetters: Int, oldestPendingAgeSeconds: Double = 0) {
        self.length = length
        self.lag = lag
        self.pending = pending
        self.deadLetters = deadLetters
        self.oldestPendingAgeSeconds = oldestPendingAgeSeconds
    }
}
