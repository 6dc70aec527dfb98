/// Transactions (`MULTI`/`EXEC`, optionally guarded by `WATCH`).
///
/// `MULTI`, the commands and `EXEC` leave in one flush on one connection, so
/// a transaction is never left open on a connection. The result is `nil`
/// when `EXEC` was aborted because a watched key changed; a command refused
/// while queueing makes the whole transaction throw `EXECABORT` with the
/// server's message; errors raised while executing are returned in place as
/// `.error` values, as Redis reports them.
extension RedisConnection {
    /// `WATCH key…` on this connection.
    public func watch(_ keys: [String]) async throws {
        _ = try await send(RedisCommand("WATCH", arguments: keys.map { .string($0) }))
    }

    /// `UNWATCH` on this connection.
    public func unwatch() async throws {
        _ = try await send(RedisCommand("UNWATCH"))
    }

    /// `MULTI`, `commands`, `EXEC`: the replies of `commands`, or `nil` if a watched key changed.
    public func transaction(_ commands: [RedisCommand]) async throws -> [RESPValue]? {
        let replies = try await send(batch: [RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")])
        if case .error(let message) = replies[0] { throw RedisError.server(command: "MULTI", message: message) }
        for (index, reply) in replies.dropFirst().dropLast().enumerated() {
            if case .error(let message) = reply, case .error(let execMessage) = replies.last! {
                throw RedisError.server(command: "EXEC", message: "\(execMessage) (\(commands[index].name): \(message))")
            }
        }
        switch replies.last! {
        case .null: return nil
        case .error(let message): throw RedisError.server(command: "EXEC", message: message)
        case .array(let results): return results
        case let other: throw other.unexpected("EXEC")
        }
    }
}

extension RedisConnectionPool {
    /// `MULTI`/`EXEC` on one leased connection.
    public func transaction(_ commands: [RedisCommand]) async throws -> [RESPValue]? {
        try await withConnection { try await $0.transaction(commands) }
    }

    /// Optimistic transaction: `WATCH keys`, let `body` read and decide the
    /// commands (return `nil` to give up), then `MULTI`/`EXEC`. Returns `nil`
    /// when a watched key changed (retry if appropriate) or `body` gave up.
    /// The connection is always left un-watched.
    public func transaction(watching keys: [String], _ body: (RedisConnection) async throws -> [RedisCommand]?) async throws -> [RESPValue]? {
        try await withConnection { connection in
            try await connection.watch(keys)
            do {
                guard let commands = try await body(connection) else {
                    try await connection.unwatch()
                    return nil
                }
                return try await connection.transaction(commands)
            } catch {
                try? await connection.unwatch()
                throw error
            }
        }
    }
}
