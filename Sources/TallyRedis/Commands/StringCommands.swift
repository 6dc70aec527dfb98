import NIOCore
import TallyCore

/// When `SET` may write.
public enum RedisSetCondition: Sendable, Hashable {
    /// Always (plain `SET`).
    case always
    /// Only if the key does not exist (`NX`).
    case ifNotExists
    /// Only if the key exists (`XX`).
    case ifExists
}

extension RESPValue {
    func unexpected(_ command: String) -> RedisError {
        .unexpectedReply(command: command, reply: description)
    }
}

extension RedisClient {
    /// `PING`: the server's answer (`PONG`).
    public func ping() async throws -> String {
        let reply = try await send(RedisCommand("PING"))
        guard let s = reply.string else { throw reply.unexpected("PING") }
        return s
    }

    /// `GET key` as text; `nil` when the key does not exist.
    public func get(_ key: String) async throws -> String? {
        let reply = try await send(RedisCommand("GET", .string(key)))
        if reply.isNull { return nil }
        guard let s = reply.string else { throw reply.unexpected("GET") }
        return s
    }

    /// `GET key` as raw bytes; `nil` when the key does not exist.
    public func getBytes(_ key: String) async throws -> ByteBuffer? {
        let reply = try await send(RedisCommand("GET", .string(key)))
        switch reply {
        case .null: return nil
        case .bulkString(let b): return b
        default: throw reply.unexpected("GET")
        }
    }

    /// `SET key value [NX|XX] [PX ms]`: true when the value was written.
    @discardableResult
    public func set(_ key: String, to value: RedisArgument, condition: RedisSetCondition = .always, expiration: Duration? = nil) async throws -> Bool {
        var arguments: [RedisArgument] = [.string(key), value]
        switch condition {
        case .always: break
        case .ifNotExists: arguments.append("NX")
        case .ifExists: arguments.append("XX")
        }
        if let expiration {
            arguments += ["PX", .integer(expiration.wholeMilliseconds)]
        }
        let reply = try await send(RedisCommand("SET", arguments: arguments))
        return !reply.isNull
    }

    /// `DEL key…`: how many keys were removed.
    @discardableResult
    public func del(_ keys: [String]) async throws -> Int {
        try await integer(RedisCommand("DEL", arguments: keys.map { .string($0) }))
    }

    /// `EXISTS key…`: how many of the keys exist (a key named twice counts twice).
    public func exists(_ keys: [String]) async throws -> Int {
        try await integer(RedisCommand("EXISTS", arguments: keys.map { .string($0) }))
    }

    /// `EXPIRE key seconds`: false when the key does not exist.
    @discardableResult
    public func expire(_ key: String, after seconds: Int) async throws -> Bool {
        try await integer(RedisCommand("EXPIRE", .string(key), .integer(seconds))) == 1
    }

    /// `PEXPIRE key milliseconds`: false when the key does not exist.
    @discardableResult
    public func pexpire(_ key: String, after duration: Duration) async throws -> Bool {
        try await integer(RedisCommand("PEXPIRE", .string(key), .integer(duration.wholeMilliseconds))) == 1
    }

    /// `PTTL key` in milliseconds: -2 when the key does not exist, -1 without expiry.
    public func pttl(_ key: String) async throws -> Int {
        try await integer(RedisCommand("PTTL", .string(key)))
    }

    /// `INCRBY key increment`: the new value.
    @discardableResult
    public func incrby(_ key: String, by increment: Int) async throws -> Int {
        try await integer(RedisCommand("INCRBY", .string(key), .integer(increment)))
    }

    /// `INFO [section]`: the raw text.
    public func info(_ section: String? = nil) async throws -> String {
        let reply = try await send(RedisCommand("INFO", arguments: section.map { [.string($0)] } ?? []))
        guard let s = reply.string else { throw reply.unexpected("INFO") }
        return s
    }

    /// `CONFIG GET pattern`: parameter → value.
    public func configGet(_ pattern: String) async throws -> [String: String] {
        let reply = try await send(RedisCommand("CONFIG", "GET", .string(pattern)))
        guard let entries = reply.mapEntries else { throw reply.unexpected("CONFIG GET") }
        var result: [String: String] = [:]
        for entry in entries {
            guard let k = entry.key.string, let v = entry.value.string else { throw reply.unexpected("CONFIG GET") }
            result[k] = v
        }
        return result
    }

    // MARK: shared decoding

    func integer(_ command: RedisCommand) async throws -> Int {
        let reply = try await send(command)
        guard let n = reply.int else { throw reply.unexpected(command.name) }
        return n
    }
}
