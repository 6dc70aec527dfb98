import Synchronization
import TallyRedis
import TallyTesting
import Testing

/// Records what a pool reports.
final class RecordingObserver: RedisPoolObserver {
    let leases = Atomic<Int>(0)
    let failedLeases = Atomic<Int>(0)
    let commands = Mutex<[(name: String, failed: Bool)]>([])

    func connectionLeased(waited: Duration) { leases.wrappingAdd(1, ordering: .relaxed) }
    func connectionLeaseFailed(waited: Duration, error: any Error) { failedLeases.wrappingAdd(1, ordering: .relaxed) }
    func commandFinished(_ name: String, duration: Duration, failed: Bool) {
        commands.withLock { $0.append((name, failed)) }
    }
}

@Test func thePoolReportsLeasesAndCommandsOnSharedConnectionsToItsObserver() async throws {
    try await withRedisServer { server in
        let observer = RecordingObserver()
        let pool = RedisConnectionPool(
            configuration: try RedisPoolConfiguration(connection: server.configuration(), maximumConnections: 2, leaseTimeout: RedisServer.leaseTimeout),
            observer: observer
        )
        _ = try await pool.set("k", to: "v")
        _ = try await pool.send(batch: [RedisCommand("GET", "k"), RedisCommand("GET", "k")])
        await #expect(throws: RedisError.self) { try await pool.send(RedisCommand("NOSUCHCOMMAND")) }
        _ = try await pool.sendBlocking(RedisCommand("BLPOP", "empty", "0.01"), blockingFor: .milliseconds(10))
        // A durable write (the command, then WAIT on the same connection) counts once, under the
        // command; with no replica to confirm it, it still succeeds with 0 replicas.
        let durable = try await pool.sendDurably(RedisCommand("INCR", "n"), replicas: 0, timeout: .milliseconds(10))
        #expect(durable.reply.int == 1)
        let commands = observer.commands.withLock { $0 }
        #expect(commands.map(\.name) == ["SET", "GET", "NOSUCHCOMMAND", "INCR"])  // the blocking command is not reported
        #expect(commands.map(\.failed) == [false, false, true, false])
        #expect(observer.leases.load(ordering: .relaxed) == 4)
        let statistics = pool.statistics
        #expect(statistics.maximum == 2 && statistics.open >= 1 && statistics.idle == statistics.open && statistics.leased == 0 && statistics.waiting == 0)
        await pool.close()
        await #expect(throws: RedisError.self) { try await pool.get("k") }
        #expect(observer.failedLeases.load(ordering: .relaxed) == 1)
    }
}
