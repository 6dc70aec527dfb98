import TallyCore

/// One ingest batch as the log appends it, together with what makes a retry of
/// it safe: its `Idempotency-Key` record and the client ids to deduplicate.
///
/// The log checks and records both in the same atomic step as the append, so
/// every node sees them and concurrent copies are serialised: exactly one copy
/// appends, every other gets its outcome.
public struct AppendRequest: Sendable {
    /// The records to store, in order.
    public var records: [EventRecord]
    /// Parallel to `records`: the client-given event id to deduplicate on, or nil
    /// (server-assigned ids are unique and never deduplicated).
    public var deduplicationIDs: [String?]
    /// Events the batch accepted but does not store (sampled out), by client id: remembered so
    /// that a resent copy is not stored either.
    public var acceptedUnstored: [UnstoredEvent]
    /// The batch's idempotency record, when the client sent a key.
    public var idempotency: IdempotencyClaim?

    public init(records: [EventRecord], deduplicationIDs: [String?]? = nil, acceptedUnstored: [UnstoredEvent] = [],
                idempotency: IdempotencyClaim? = nil) {
        self.records = records
        self.deduplicationIDs = deduplicationIDs ?? Array(repeating: nil, count: records.count)
        self.acceptedUnstored = acceptedUnstored
        self.idempotency = idempotency
        precondition(self.deduplicationIDs.count == records.count, "one deduplication id (or nil) per record")
    }
}

/// An event a batch accepted without storing it (sampled out): its client id, remembered for dedupe,
/// and its session, whose shard remembers it.
public struct UnstoredEvent: Sendable, Hashable {
    public var id: String
    public var sessionID: String

    public init(id: String, sessionID: String) {
        self.id = id
        self.sessionID = sessionID
    }
}

/// An `Idempotency-Key` as the log records it.
public struct IdempotencyClaim: Sendable, Hashable {
    /// The key, scoped (for example by a digest of the bearer token); at most
    /// ``AppendPolicy/maxIdempotencyKeyBytes`` bytes.
    public var key: String
    /// A digest of the request (its format and body): the same key with another
    /// fingerprint is a conflict.
    public var fingerprint: String
    /// The count the first request was answered with (`{"accepted": n}`).
    public var acceptedCount: Int

    public init(key: String, fingerprint: String, acceptedCount: Int) {
        self.key = key
        self.fingerprint = fingerprint
        self.acceptedCount = acceptedCount
    }
}

/// What the log did with an ``AppendRequest``.
public enum AppendOutcome: Sendable, Hashable {
    /// Stored: the new entries' ids in order, and the positions (in `records`) of those left out
    /// as duplicates of events appended within the dedupe window or earlier in the same batch.
    case appended(ids: [String], duplicates: [Int])
    /// The key was recorded earlier with the same fingerprint: nothing was stored;
    /// answer as the first request was answered.
    case replayed(acceptedCount: Int)
    /// The key was recorded earlier with another fingerprint: nothing was stored.
    case conflict(acceptedCount: Int)
}

/// How long the log remembers idempotency keys and event ids, and how many keys it keeps.
public struct AppendPolicy: Sendable, Hashable {
    /// How long an `Idempotency-Key` is remembered (24 h by default, as common payment APIs do).
    public var idempotencyWindow: Duration
    /// Bound on remembered keys: past it the keys closest to expiry are forgotten early
    /// (and counted), so memory stays bounded whatever the key rate.
    public var maxIdempotencyKeys: Int
    /// How long an appended event's client id is remembered for dedupe; zero turns dedupe off.
    public var dedupeWindow: Duration

    /// Longest accepted key, in UTF-8 bytes.
    public static let maxIdempotencyKeyBytes = 255
    /// The dedupe window is covered by this many whole time slices plus the current one;
    /// a slice is dropped whole once it is older than the window.
    public static let dedupeSlices = 4

    public init(idempotencyWindow: Duration = .seconds(86_400), maxIdempotencyKeys: Int = 1_000_000, dedupeWindow: Duration = .zero) {
        self.idempotencyWindow = idempotencyWindow
        self.maxIdempotencyKeys = max(1, maxIdempotencyKeys)
        self.dedupeWindow = dedupeWindow
    }

    public static let `default` = AppendPolicy()

    /// The idempotency window in milliseconds (at least 1).
    var idempotencyWindowMilliseconds: Int64 { max(1, Int64(idempotencyWindow.wholeMilliseconds)) }

    /// The length of one dedupe slice in milliseconds (0 when dedupe is off).
    var dedupeSliceMilliseconds: Int64 {
        let window = Int64(dedupeWindow.wholeMilliseconds)
        guard window > 0 else { return 0 }
        return (window + Int64(Self.dedupeSlices) - 1) / Int64(Self.dedupeSlices)
    }
}

/// Sizes of the log's retry-safety records, for the node's gauges.
public struct AppendRecordFigures: Sendable, Hashable, Codable {
    /// Idempotency keys remembered now.
    public var idempotencyKeys: Int
    /// Keys forgotten before their window ended because the bound was reached, since the log began.
    public var idempotencyKeysEvicted: Int
    /// Event ids remembered for dedupe now (all live slices).
    public var dedupeIDs: Int

    public init(idempotencyKeys: Int = 0, idempotencyKeysEvicted: Int = 0, dedupeIDs: Int = 0) {
        self.idempotencyKeys = idempotencyKeys
        self.idempotencyKeysEvicted = idempotencyKeysEvicted
        self.dedupeIDs = dedupeIDs
    }
}
