/// Anything that can run Redis commands: a single `RedisConnection` or a
/// `RedisConnectionPool`. The typed helpers (`get`, `xadd`, `evalScript`…)
/// are extensions on this protocol, so they work on both.
///
/// Error replies are thrown as `RedisError.server(command:message:)`, except
/// inside `send(batch:)`, which returns them as `.error` values so one failing
/// command does not hide the others' replies.
public protocol RedisClient: Sendable {
    /// Sends one command and waits for its reply.
    func send(_ command: RedisCommand) async throws -> RESPValue
    /// Writes all commands in one flush and returns their replies in order.
    func send(batch commands: [RedisCommand]) async throws -> [RESPValue]
    /// Sends a command that blocks on the server (`XREADGROUP … BLOCK`, `BLPOP`):
    /// its deadline is extended by `blockingFor`, and a pool runs it on a
    /// dedicated connection so it never holds a shared one.
    func sendBlocking(_ command: RedisCommand, blockingFor: Duration) async throws -> RESPValue
    /// `EVALSHA`, loading the script where the server does not know it (`NOSCRIPT`); what
    /// `evalScript` runs. The default covers single servers (`SCRIPT LOAD`, then `EVALSHA` again);
    /// a cluster client loads it on the node that answered.
    func runScript(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws -> RESPValue
    /// This client, sending the commands that name no key (`INFO`, `CONFIG GET`, `TIME`…) to the
    /// server that holds `key`: a cluster's node of its slot; a single server is that server anyway.
    func keyless(onNodeOf key: String) -> any RedisClient
    /// Sends a write, then `WAIT replicas timeout` on the same connection, so the caller can
    /// acknowledge the write only once `replicas` replicas have it. Returns the write's reply (an
    /// error reply is thrown) and how many replicas acknowledged it (fewer when `timeout` passed).
    func sendDurably(_ command: RedisCommand, replicas: Int, timeout: Duration) async throws -> (reply: RESPValue, replicas: Int)
    /// Runs `commands`, whose keys share one slot, as one transaction (`MULTI` … `EXEC`) on one
    /// connection of the server that holds them, then `WAIT replicas timeout` when `replicas` > 0,
    /// all in one flush: many writes applied together, without a script's per-call cost. Returns
    /// `EXEC`'s replies (a command that failed while executing in place, as `.error`, as Redis
    /// runs the others) and how many replicas acknowledged (0 when none was asked for). A command
    /// refused while queueing discards the transaction (nothing ran) and its own error is thrown,
    /// so a cluster client follows `MOVED` and `ASK` as for one command.
    func sendTransaction(_ commands: [RedisCommand], replicas: Int, timeout: Duration) async throws -> (replies: [RESPValue], replicas: Int)
}

extension RedisClient {
    public func keyless(onNodeOf key: String) -> any RedisClient { self }
}

/// A client that owns connections and must be closed: a ``RedisConnectionPool`` or a ``RedisClusterClient``.
public protocol ClosableRedisClient: RedisClient {
    func close() async
}
