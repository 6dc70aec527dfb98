/// One field of a stream entry, in the order it was added.
public struct RedisStreamField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A stream entry: its id and fields. `fields` is `nil` for an entry that was
/// deleted (`XDEL`) while still pending in a consumer group, which
/// `XREADGROUP … 0` reports as `[id, nil]`.
public struct RedisStreamEntry: Sendable, Hashable {
    public var id: String
    public var fields: [RedisStreamField]?

    public init(id: String, fields: [RedisStreamField]?) {
        self.id = id
        self.fields = fields
    }

    /// The value of the first field called `name`.
    public subscript(field name: String) -> String? {
        fields?.first(where: { $0.name == name })?.value
    }
}

/// The entries one stream returned to `XREADGROUP`.
public struct RedisStreamRead: Sendable, Hashable {
    public var key: String
    public var entries: [RedisStreamEntry]

    public init(key: String, entries: [RedisStreamEntry]) {
        self.key = key
        self.entries = entries
    }
}

/// How `XADD`/`XTRIM` trim the stream; `approximate` is `~` (cheaper, trims whole nodes), otherwise `=`.
public enum RedisStreamTrim: Sendable, Hashable {
    case maxLength(Int, approximate: Bool = true)
    case minID(String, approximate: Bool = true)

    var arguments: [RedisArgument] {
        switch self {
        case .maxLength(let n, let approximate): return ["MAXLEN", approximate ? "~" : "=", .integer(n)]
        case .minID(let id, let approximate): return ["MINID", approximate ? "~" : "=", .string(id)]
        }
    }
}

/// What `XAUTOCLAIM` returned: the cursor for the next call (`0-0` when the
/// scan is complete), the claimed entries (or only their ids with `JUSTID`),
/// and the ids of pending entries that no longer exist in the stream (Redis ≥ 7),
/// which Redis removed from the pending list.
public struct RedisAutoClaimResult: Sendable, Hashable {
    public var nextCursor: String
    public var entries: [RedisStreamEntry]
    /// The claimed ids (for `JUSTID` and full claims alike).
    public var claimedIDs: [String]
    public var deletedIDs: [String]

    public init(nextCursor: String, entries: [RedisStreamEntry], claimedIDs: [String], deletedIDs: [String]) {
        self.nextCursor = nextCursor
        self.entries = entries
        self.claimedIDs = claimedIDs
        self.deletedIDs = deletedIDs
    }
}

/// `XPENDING key group`: the group's pending-entries summary.
public struct RedisPendingSummary: Sendable, Hashable {
    public var count: Int
    public var smallestID: String?
    public var greatestID: String?
    /// Consumer name → number of entries it holds.
    public var consumers: [String: Int]

    public init(count: Int, smallestID: String?, greatestID: String?, consumers: [String: Int]) {
        self.count = count
        self.smallestID = smallestID
        self.greatestID = greatestID
        self.consumers = consumers
    }
}

/// One line of extended `XPENDING`: who holds the entry, for how long, and how many times it was delivered.
public struct RedisPendingEntry: Sendable, Hashable {
    public var id: String
    public var consumer: String
    public var idleMilliseconds: Int
    public var deliveryCount: Int

    public init(id: String, consumer: String, idleMilliseconds: Int, deliveryCount: Int) {
        self.id = id
        self.consumer = consumer
        self.idleMilliseconds = idleMilliseconds
        self.deliveryCount = deliveryCount
    }
}

/// One consumer group from `XINFO GROUPS`. `lag` is `nil` when Redis cannot
/// compute it (for instance after entries were deleted with `XDEL`).
public struct RedisStreamGroupInfo: Sendable, Hashable {
    public var name: String
    public var consumers: Int
    public var pending: Int
    public var lastDeliveredID: String
    public var entriesRead: Int?
    public var lag: Int?

    public init(name: String, consumers: Int, pending: Int, lastDeliveredID: String, entriesRead: Int?, lag: Int?) {
        self.name = name
        self.consumers = consumers
        self.pending = pending
        self.lastDeliveredID = lastDeliveredID
        self.entriesRead = entriesRead
        self.lag = lag
    }
}

/// `XINFO STREAM key` (the fields Tally uses).
public struct RedisStreamInfo: Sendable, Hashable {
    public var length: Int
    public var groups: Int
    public var lastGeneratedID: String
    public var maxDeletedEntryID: String?
    public var entriesAdded: Int?
    public var firstEntry: RedisStreamEntry?
    public var lastEntry: RedisStreamEntry?

    public init(length: Int, groups: Int, lastGeneratedID: String, maxDeletedEntryID: String?, entriesAdded: Int?, firstEntry: RedisStreamEntry?, lastEntry: RedisStreamEntry?) {
        self.length = length
        self.groups = groups
        self.lastGeneratedID = lastGeneratedID
        self.maxDeletedEntryID = maxDeletedEntryID
        self.entriesAdded = entriesAdded
        self.firstEntry = firstEntry
        self.lastEntry = lastEntry
    }
}

/// What `XGROUP CREATE` did: BUSYGROUP (the group exists) is an expected outcome, not an error.
public enum RedisGroupCreation: Sendable, Hashable {
    case created
    case alreadyExists
}

enum StreamReplyDecoding {
    static func entry(_ value: RESPValue, command: String) throws -> RedisStreamEntry {
        guard let pair = value.array, pair.count == 2, let id = pair[0].string else { throw value.unexpected(command) }
        if pair[1].isNull { return RedisStreamEntry(id: id, fields: nil) }
        guard let flat = pair[1].array, flat.count % 2 == 0 else { throw value.unexpected(command) }
        var fields: [RedisStreamField] = []
        fields.reserveCapacity(flat.count / 2)
        for i in stride(from: 0, to: flat.count, by: 2) {
            guard let name = flat[i].string, let v = flat[i + 1].string else { throw value.unexpected(command) }
            fields.append(RedisStreamField(name: name, value: v))
        }
        return RedisStreamEntry(id: id, fields: fields)
    }

    static func entries(_ value: RESPValue, command: String) throws -> [RedisStreamEntry] {
        if value.isNull { return [] }
        guard let list = value.array else { throw value.unexpected(command) }
        return try list.map { try entry($0, command: command) }
    }

    /// A map reply (RESP3) or flat array (RESP2) as a name → value dictionary.
    static func fieldMap(_ value: RESPValue, command: String) throws -> [String: RESPValue] {
        guard let entries = value.mapEntries else { throw value.unexpected(command) }
        var result: [String: RESPValue] = [:]
        for e in entries {
            guard let k = e.key.string else { throw value.unexpected(command) }
            result[k] = e.value
        }
        return result
    }
}
