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
        switch try await runTransaction([], commands, replicas: 0, timeout: .zero).exec {
        case .ran(let results): return results
        case .aborted: return nil
        case .refused(let refusal?, let execMessage):
            throw RedisError.server(command: "EXEC", message: "\(execMessage) (\(refusal.command): \(refusal.message))")
        case .refused(nil, let execMessage): throw RedisError.server(command: "EXEC", message: execMessage)
        }
    }

    public func sendTransaction(_ commands: [RedisCommand], replicas: Int, timeout: Duration) async throws -> (replies: [RESPValue], replicas: Int) {
        try await sendTransaction([], commands, replicas: replicas, timeout: timeout)
    }

    /// ``sendTransaction(_:replicas:timeout:)`` after `preamble` (a cluster's `ASKING`, which holds
    /// for the whole transaction), all in one flush.
    package func sendTransaction(_ preamble: [RedisCommand], _ commands: [RedisCommand], replicas: Int,
                                 timeout: Duration) async throws -> (replies: [RESPValue], replicas: Int) {
        guard !commands.isEmpty else { return ([], 0) }
        let (exec, acknowledged) = try await runTransaction(preamble, commands, replicas: replicas, timeout: timeout)
        switch exec {
        case .ran(let results): return (results, acknowledged)
        case .refused(let refusal?, _): throw RedisError.server(command: refusal.command, message: refusal.message)
        case .refused(nil, let execMessage): throw RedisError.server(command: "EXEC", message: execMessage)
        case .aborted: throw RESPValue.null.unexpected("EXEC")  // no WATCH here: EXEC never answers nil
        }
    }

    /// What `EXEC` answered.
    enum ExecOutcome {
        /// The replies of the commands (an error raised while executing in place, as `.error`).
        case ran([RESPValue])
        /// A watched key changed: nothing ran.
        case aborted
        /// Discarded, nothing ran: the first command refused while queueing (nil when none was) and EXEC's message.
        case refused((command: String, message: String)?, execMessage: String)
    }

    /// `preamble`, `MULTI`, `commands`, `EXEC` and, when `replicas` > 0, `WAIT` in one flush; `EXEC`'s
    /// outcome and how many replicas acknowledged (0 unless the commands ran and replicas were asked for).
    private func runTransaction(_ preamble: [RedisCommand], _ commands: [RedisCommand], replicas: Int,
                                timeout: Duration) async throws -> (exec: ExecOutcome, replicas: Int) {
        var batch = preamble
        batch.reserveCapacity(preamble.count + commands.count + 3)
        batch.append(RedisCommand("MULTI"))
        batch += commands
        batch.append(RedisCommand("EXEC"))
        if replicas > 0 { batch.append(RedisCommand("WAIT", .integer(replicas), .integer(max(1, timeout.wholeMilliseconds)))) }
        let replies = try await send(batch: batch, timeout: configuration.commandTimeout + (replicas > 0 ? timeout : .zero))
        let multi = preamble.count
        let exec = multi + commands.count + 1
        if case .error(let message) = replies[multi] { throw RedisError.server(command: "MULTI", message: message) }
        switch replies[exec] {
        case .array(let results):
            guard replicas > 0 else { return (.ran(results), 0) }
            if case .error(let message) = replies[exec + 1] { throw RedisError.server(command: "WAIT", message: message) }
            return (.ran(results), replies[exec + 1].int ?? 0)
        case .null:
            return (.aborted, 0)
        case .error(let message):
            for index in commands.indices {
                if case .error(let refused) = replies[multi + 1 + index] { return (.refused((commands[index].name, refused), execMessage: message), 0) }
            }
            return (.refused(nil, execMessage: message), 0)
        case let other:
            throw other.unexpected("EXEC")
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
