import TallyCore

extension RedisCommand {
    /// `XADD key [NOMKSTREAM] [MAXLEN|MINID ~|= n] id field value…`, for batches.
    public static func xadd(_ key: String, id: String = "*", fields: [(String, RedisArgument)], trim: RedisStreamTrim? = nil, noMakeStream: Bool = false) -> RedisCommand {
        var arguments: [RedisArgument] = [.string(key)]
        arguments.reserveCapacity(6 + fields.count * 2)
        if noMakeStream { arguments.append("NOMKSTREAM") }
        if let trim { arguments += trim.arguments }
        arguments.append(.string(id))
        for (name, value) in fields {
            arguments.append(.string(name))
            arguments.append(value)
        }
        return RedisCommand("XADD", arguments: arguments)
    }

    /// `XACK key group id…`, for batches.
    public static func xack(_ key: String, group: String, ids: [String]) -> RedisCommand {
        RedisCommand("XACK", arguments: [.string(key), .string(group)] + ids.map { .string($0) })
    }
}

extension RedisClient {
    /// `XADD`: the id of the new entry (`nil` only with `noMakeStream` when the stream does not exist).
    @discardableResult
    public func xadd(_ key: String, id: String = "*", fields: [(String, RedisArgument)], trim: RedisStreamTrim? = nil, noMakeStream: Bool = false) async throws -> String? {
        let reply = try await send(.xadd(key, id: id, fields: fields, trim: trim, noMakeStream: noMakeStream))
        if reply.isNull { return nil }
        guard let id = reply.string else { throw reply.unexpected("XADD") }
        return id
    }

    /// `XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS k… id…`.
    ///
    /// Ids are `>` (new entries) or an id such as `0` (this consumer's pending
    /// entries). With `block`, the command runs through `sendBlocking` (a
    /// dedicated connection on a pool); `block: .zero` waits forever. Returns
    /// `[]` when the block timed out.
    public func xreadgroup(group: String, consumer: String, streams: [(key: String, id: String)], count: Int? = nil, block: Duration? = nil, noAck: Bool = false) async throws -> [RedisStreamRead] {
        var arguments: [RedisArgument] = ["GROUP", .string(group), .string(consumer)]
        if let count { arguments += ["COUNT", .integer(count)] }
        if let block { arguments += ["BLOCK", .integer(block.wholeMilliseconds)] }
        if noAck { arguments.append("NOACK") }
        arguments.append("STREAMS")
        arguments += streams.map { .string($0.key) }
        arguments += streams.map { .string($0.id) }
        let command = RedisCommand("XREADGROUP", arguments: arguments)
        let reply: RESPValue
        if let block {
            reply = try await sendBlocking(command, blockingFor: block == .zero ? .seconds(100 * 365 * 86_400) : block)
        } else {
            reply = try await send(command)
        }
        if reply.isNull { return [] }
        // RESP3 sends a map {key: entries}; RESP2 an array of [key, entries] pairs.
        let perStream: [(RESPValue, RESPValue)]
        switch reply {
        case .map(let entries):
            perStream = entries.map { ($0.key, $0.value) }
        case .array(let outer):
            perStream = try outer.map { pair in
                guard let p = pair.array, p.count == 2 else { throw reply.unexpected("XREADGROUP") }
                return (p[0], p[1])
            }
        default:
            throw reply.unexpected("XREADGROUP")
        }
        return try perStream.map { key, entries in
            guard let key = key.string else { throw reply.unexpected("XREADGROUP") }
            return RedisStreamRead(key: key, entries: try StreamReplyDecoding.entries(entries, command: "XREADGROUP"))
        }
    }

    /// `XACK`: how many entries were acknowledged.
    @discardableResult
    public func xack(_ key: String, group: String, ids: [String]) async throws -> Int {
        try await integer(.xack(key, group: group, ids: ids))
    }

    /// `XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]`.
    public func xautoclaim(_ key: String, group: String, consumer: String, minIdle: Duration, start: String = "0-0", count: Int? = nil, justID: Bool = false) async throws -> RedisAutoClaimResult {
        var arguments: [RedisArgument] = [.string(key), .string(group), .string(consumer), .integer(minIdle.wholeMilliseconds), .string(start)]
        if let count { arguments += ["COUNT", .integer(count)] }
        if justID { arguments.append("JUSTID") }
        let reply = try await send(RedisCommand("XAUTOCLAIM", arguments: arguments))
        guard let parts = reply.array, parts.count >= 2, let cursor = parts[0].string, let claimed = parts[1].array else {
            throw reply.unexpected("XAUTOCLAIM")
        }
        var entries: [RedisStreamEntry] = []
        var ids: [String] = []
        if justID {
            ids = try claimed.map { guard let s = $0.string else { throw reply.unexpected("XAUTOCLAIM") }; return s }
        } else {
            entries = try claimed.map { try StreamReplyDecoding.entry($0, command: "XAUTOCLAIM") }
            ids = entries.map(\.id)
        }
        let deleted = try (parts.count > 2 ? parts[2].array ?? [] : []).map {
            guard let s = $0.string else { throw reply.unexpected("XAUTOCLAIM") }
            return s
        }
        return RedisAutoClaimResult(nextCursor: cursor, entries: entries, claimedIDs: ids, deletedIDs: deleted)
    }

    /// `XPENDING key group`: the summary form.
    public func xpending(_ key: String, group: String) async throws -> RedisPendingSummary {
        let reply = try await send(RedisCommand("XPENDING", .string(key), .string(group)))
        guard let parts = reply.array, parts.count == 4, let count = parts[0].int else { throw reply.unexpected("XPENDING") }
        var consumers: [String: Int] = [:]
        for c in parts[3].array ?? [] {
            guard let pair = c.array, pair.count == 2, let name = pair[0].string, let n = pair[1].int else { throw reply.unexpected("XPENDING") }
            consumers[name] = n
        }
        return RedisPendingSummary(count: count, smallestID: parts[1].string, greatestID: parts[2].string, consumers: consumers)
    }

    /// `XPENDING key group [IDLE ms] start end count [consumer]`: the extended form, with delivery counts.
    public func xpending(_ key: String, group: String, start: String = "-", end: String = "+", count: Int, minIdle: Duration? = nil, consumer: String? = nil) async throws -> [RedisPendingEntry] {
        var arguments: [RedisArgument] = [.string(key), .string(group)]
        if let minIdle { arguments += ["IDLE", .integer(minIdle.wholeMilliseconds)] }
        arguments += [.string(start), .string(end), .integer(count)]
        if let consumer { arguments.append(.string(consumer)) }
        let reply = try await send(RedisCommand("XPENDING", arguments: arguments))
        guard let list = reply.array else { throw reply.unexpected("XPENDING") }
        return try list.map { item in
            guard let f = item.array, f.count == 4, let id = f[0].string, let c = f[1].string, let idle = f[2].int, let n = f[3].int else {
                throw reply.unexpected("XPENDING")
            }
            return RedisPendingEntry(id: id, consumer: c, idleMilliseconds: idle, deliveryCount: n)
        }
    }

    /// `XGROUP CREATE key group id [MKSTREAM]`: `.alreadyExists` on BUSYGROUP instead of an error.
    @discardableResult
    public func xgroupCreate(_ key: String, group: String, startID: String = "$", makeStream: Bool = true) async throws -> RedisGroupCreation {
        var arguments: [RedisArgument] = ["CREATE", .string(key), .string(group), .string(startID)]
        if makeStream { arguments.append("MKSTREAM") }
        do {
            _ = try await send(RedisCommand("XGROUP", arguments: arguments))
            return .created
        } catch let error as RedisError where error.serverErrorCode == "BUSYGROUP" {
            return .alreadyExists
        }
    }

    /// `XTRIM key MAXLEN|MINID ~|= threshold`: how many entries were removed.
    @discardableResult
    public func xtrim(_ key: String, _ trim: RedisStreamTrim) async throws -> Int {
        try await integer(RedisCommand("XTRIM", arguments: [.string(key)] + trim.arguments))
    }

    /// `XRANGE key start end [COUNT n]`.
    public func xrange(_ key: String, from start: String = "-", to end: String = "+", count: Int? = nil) async throws -> [RedisStreamEntry] {
        var arguments: [RedisArgument] = [.string(key), .string(start), .string(end)]
        if let count { arguments += ["COUNT", .integer(count)] }
        return try StreamReplyDecoding.entries(try await send(RedisCommand("XRANGE", arguments: arguments)), command: "XRANGE")
    }

    /// `XDEL key id…`: how many entries were deleted.
    @discardableResult
    public func xdel(_ key: String, ids: [String]) async throws -> Int {
        try await integer(RedisCommand("XDEL", arguments: [.string(key)] + ids.map { .string($0) }))
    }

    /// `XLEN key`.
    public func xlen(_ key: String) async throws -> Int {
        try await integer(RedisCommand("XLEN", .string(key)))
    }
}
