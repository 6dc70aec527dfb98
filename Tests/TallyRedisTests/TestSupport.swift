import NIOCore
import Synchronization
import TallyRedis
import TallyTesting
import Testing

/// A fresh server and one connection to it, both closed when `body` ends.
func withConnection<T>(
    protocol preference: RedisConfiguration.ProtocolPreference = .resp3,
    commandTimeout: Duration = .seconds(10),
    _ body: (RedisServer, RedisConnection) async throws -> T
) async throws -> T {
    try await withRedisServer { server in
        var configuration = server.configuration(commandTimeout: commandTimeout)
        configuration.protocolPreference = preference
        let connection = try await RedisConnection.connect(configuration)
        do {
            let result = try await body(server, connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }
}

/// A fresh server and a pool on it, both closed when `body` ends.
func withPool<T>(
    maximumConnections: Int = 4,
    commandTimeout: Duration = .seconds(10),
    protocol preference: RedisConfiguration.ProtocolPreference = .resp3,
    leaseTimeout: Duration = RedisServer.leaseTimeout,
    _ body: (RedisServer, RedisConnectionPool) async throws -> T
) async throws -> T {
    try await withRedisServer { server in
        var connection = server.configuration(commandTimeout: commandTimeout)
        connection.protocolPreference = preference
        let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(
            connection: connection, maximumConnections: maximumConnections, maximumBlockingConnections: 4,
            leaseTimeout: leaseTimeout, reconnectInitialBackoff: .milliseconds(20), reconnectMaximumBackoff: .milliseconds(200)
        ))
        do {
            let result = try await body(server, pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }
}

/// Asserts that `body` throws a `RedisError` and returns it.
func expectRedisError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> RedisError? {
    do {
        try await body()
        Issue.record("expected a RedisError", sourceLocation: sourceLocation)
        return nil
    } catch let error as RedisError {
        return error
    } catch {
        Issue.record("expected a RedisError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A lock-protected value that closures and tasks can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// How many clients the server reports blocked (BLPOP, XREADGROUP BLOCK…).
func blockedClients(_ client: some RedisClient) async throws -> Int {
    let info = try await client.info("clients")
    let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("blocked_clients:") }
    return line.flatMap { Int($0.split(separator: ":")[1]) } ?? -1
}
