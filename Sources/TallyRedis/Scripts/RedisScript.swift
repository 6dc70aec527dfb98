/// A Lua script identified by its SHA-1, run with `EVALSHA`.
///
/// `evalScript` sends only the hash; when the server answers `NOSCRIPT`
/// (restart, `SCRIPT FLUSH`, another node) it loads the source with
/// `SCRIPT LOAD` and retries once, so callers never handle that case.
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lower-case hex SHA-1 of `source`, as Redis computes it.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(source.utf8)
    }
}

extension RedisClient {
    /// `EVALSHA sha numkeys key… arg…`, loading the script on `NOSCRIPT` and retrying once.
    public func evalScript(_ script: RedisScript, keys: [String] = [], arguments: [RedisArgument] = []) async throws -> RESPValue {
        try await runScript(script, keys: keys, arguments: arguments)
    }

    /// The default: `EVALSHA`, then on `NOSCRIPT` `SCRIPT LOAD` and `EVALSHA` again.
    public func runScript(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RESPValue {
        let command = RedisCommand("EVALSHA", arguments: [.string(script.sha1), .integer(keys.count)] + keys.map { .string($0) } + arguments)
        do {
            return try await send(command)
        } catch let error as RedisError where error.serverErrorCode == "NOSCRIPT" {
            let loaded = try await send(RedisCommand("SCRIPT", "LOAD", .string(script.source)))
            guard loaded.string == script.sha1 else { throw loaded.unexpected("SCRIPT LOAD") }
            return try await send(command)
        }
    }

    /// ``evalScript(_:keys:arguments:)`` followed by `WAIT replicas timeout` on the same connection
    /// (``RedisClient/sendDurably(_:replicas:timeout:)``); on `NOSCRIPT`, `EVAL` with the source the
    /// same way (which loads it). Returns the script's reply and how many replicas have its writes.
    public func evalScriptDurably(_ script: RedisScript, keys: [String], arguments: [RedisArgument], replicas: Int,
                                  timeout: Duration) async throws -> (reply: RESPValue, replicas: Int) {
        let shared: [RedisArgument] = [.integer(keys.count)] + keys.map { .string($0) } + arguments
        do {
            return try await sendDurably(RedisCommand("EVALSHA", arguments: [.string(script.sha1)] + shared), replicas: replicas, timeout: timeout)
        } catch let error as RedisError where error.serverErrorCode == "NOSCRIPT" {
            return try await sendDurably(RedisCommand("EVAL", arguments: [.string(script.source)] + shared), replicas: replicas, timeout: timeout)
        }
    }

    /// `SCRIPT LOAD source`: makes the script known to the server ahead of use.
    public func loadScript(_ script: RedisScript) async throws {
        let loaded = try await send(RedisCommand("SCRIPT", "LOAD", .string(script.source)))
        guard loaded.string == script.sha1 else { throw loaded.unexpected("SCRIPT LOAD") }
    }
}
