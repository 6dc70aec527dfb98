/// A member of a sorted set with its score.
public struct RedisScoredMember: Sendable, Hashable {
    public var member: String
    public var score: Double

    public init(member: String, score: Double) {
        self.member = member
        self.score = score
    }
}

/// Which members `ZADD` may touch.
public enum RedisZAddCondition: Sendable, Hashable {
    case always
    /// `NX`: only add new members.
    case ifNotExists
    /// `XX`: only update existing members.
    case ifExists
}

extension RedisClient {
    /// `ZADD key [NX|XX] score member…`: how many members were added.
    @discardableResult
    public func zadd(_ key: String, members: [RedisScoredMember], condition: RedisZAddCondition = .always) async throws -> Int {
        var arguments: [RedisArgument] = [.string(key)]
        switch condition {
        case .always: break
        case .ifNotExists: arguments.append("NX")
        case .ifExists: arguments.append("XX")
        }
        for m in members { arguments += [.double(m.score), .string(m.member)] }
        return try await integer(RedisCommand("ZADD", arguments: arguments))
    }

    /// `ZRANGE key start stop` by rank: members only.
    public func zrange(_ key: String, from start: Int, to stop: Int) async throws -> [String] {
        let reply = try await send(RedisCommand("ZRANGE", .string(key), .integer(start), .integer(stop)))
        return try Self.members(reply, command: "ZRANGE")
    }

    /// `ZRANGE key start stop WITHSCORES` by rank.
    public func zrangeWithScores(_ key: String, from start: Int, to stop: Int) async throws -> [RedisScoredMember] {
        let reply = try await send(RedisCommand("ZRANGE", .string(key), .integer(start), .integer(stop), "WITHSCORES"))
        return try Self.scoredMembers(reply, command: "ZRANGE")
    }

    /// `ZRANGEBYSCORE key min max WITHSCORES [LIMIT offset count]`; bounds use Redis syntax (`-inf`, `(5`, `10`).
    public func zrangebyscore(_ key: String, min: String, max: String, limit: (offset: Int, count: Int)? = nil) async throws -> [RedisScoredMember] {
        var arguments: [RedisArgument] = [.string(key), .string(min), .string(max), "WITHSCORES"]
        if let limit { arguments += ["LIMIT", .integer(limit.offset), .integer(limit.count)] }
        let reply = try await send(RedisCommand("ZRANGEBYSCORE", arguments: arguments))
        return try Self.scoredMembers(reply, command: "ZRANGEBYSCORE")
    }

    /// `ZREM key member…`: how many were removed.
    @discardableResult
    public func zrem(_ key: String, members: [String]) async throws -> Int {
        try await integer(RedisCommand("ZREM", arguments: [.string(key)] + members.map { .string($0) }))
    }

    /// `ZCARD key`.
    public func zcard(_ key: String) async throws -> Int {
        try await integer(RedisCommand("ZCARD", .string(key)))
    }

    /// `ZREMRANGEBYSCORE key min max`: how many were removed.
    @discardableResult
    public func zremrangebyscore(_ key: String, min: String, max: String) async throws -> Int {
        try await integer(RedisCommand("ZREMRANGEBYSCORE", .string(key), .string(min), .string(max)))
    }

    private static func members(_ reply: RESPValue, command: String) throws -> [String] {
        guard let elements = reply.array else { throw reply.unexpected(command) }
        return try elements.map {
            guard let s = $0.string else { throw reply.unexpected(command) }
            return s
        }
    }

    /// RESP3 sends `[[member, score]…]`, RESP2 a flat `[member, score, …]` with scores as text.
    private static func scoredMembers(_ reply: RESPValue, command: String) throws -> [RedisScoredMember] {
        guard let elements = reply.array else { throw reply.unexpected(command) }
        if let first = elements.first, case .array = first {
            return try elements.map { pair in
                guard let p = pair.array, p.count == 2, let m = p[0].string, let s = p[1].double else { throw reply.unexpected(command) }
                return RedisScoredMember(member: m, score: s)
            }
        }
        guard elements.count % 2 == 0 else { throw reply.unexpected(command) }
        return try stride(from: 0, to: elements.count, by: 2).map { i in
            guard let m = elements[i].string, let s = elements[i + 1].double else { throw reply.unexpected(command) }
            return RedisScoredMember(member: m, score: s)
        }
    }
}
