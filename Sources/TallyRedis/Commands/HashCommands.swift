extension RedisClient {
    /// `HSET key field value…`: how many fields were added (not updated).
    @discardableResult
    public func hset(_ key: String, fields: [(String, RedisArgument)]) async throws -> Int {
        var arguments: [RedisArgument] = [.string(key)]
        for (field, value) in fields { arguments += [.string(field), value] }
        return try await integer(RedisCommand("HSET", arguments: arguments))
    }

    /// `HGET key field`; `nil` when the field or key does not exist.
    public func hget(_ key: String, field: String) async throws -> String? {
        let reply = try await send(RedisCommand("HGET", .string(key), .string(field)))
        if reply.isNull { return nil }
        guard let s = reply.string else { throw reply.unexpected("HGET") }
        return s
    }

    /// `HGETALL key`: field → value (empty when the key does not exist). Works on RESP2 and RESP3.
    public func hgetall(_ key: String) async throws -> [String: String] {
        let reply = try await send(RedisCommand("HGETALL", .string(key)))
        guard let entries = reply.mapEntries else { throw reply.unexpected("HGETALL") }
        var result: [String: String] = [:]
        result.reserveCapacity(entries.count)
        for entry in entries {
            guard let k = entry.key.string, let v = entry.value.string else { throw reply.unexpected("HGETALL") }
            result[k] = v
        }
        return result
    }

    /// `HINCRBY key field increment`: the new value.
    @discardableResult
    public func hincrby(_ key: String, field: String, by increment: Int) async throws -> Int {
        try await integer(RedisCommand("HINCRBY", .string(key), .string(field), .integer(increment)))
    }

    /// `HINCRBYFLOAT key field increment`: the new value.
    @discardableResult
    public func hincrbyfloat(_ key: String, field: String, by increment: Double) async throws -> Double {
        let reply = try await send(RedisCommand("HINCRBYFLOAT", .string(key), .string(field), .double(increment)))
        guard let d = reply.double else { throw reply.unexpected("HINCRBYFLOAT") }
        return d
    }

    /// `HDEL key field…`: how many fields were removed.
    @discardableResult
    public func hdel(_ key: String, fields: [String]) async throws -> Int {
        try await integer(RedisCommand("HDEL", arguments: [.string(key)] + fields.map { .string($0) }))
    }
}
