import TallyCore
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

/// `--durability replicated` on a single primary (a pool, not a cluster): an append counts as stored
/// only once a replica has it.
@Suite struct ReplicatedAppendTests {
    static func records(_ count: Int) -> [EventRecord] {
        let now = unixNow()
        return (0..<count).map { TelemetryEvent.clientError(id: "r\($0)", session: "s\($0 % 7)", at: now - 1, code: "E") }.records
    }

    @Test func anAppendIsAcknowledgedOnlyOnceTheReplicaHasIt() async throws {
        try await withRedisServer { primary in
            try await withRedisServer(extraArguments: ["--replicaof", "127.0.0.1", String(primary.port)]) { replica in
                let pool = try RedisConnectionPool(url: primary.url, leaseTimeout: RedisServer.leaseTimeout)
                let log = RedisEventLog(client: pool, durability: .replicated(replicas: 1, timeout: .seconds(10)))
                // The replica has finished its first sync once it says so.
                let follower = try await RedisConnection.connect(replica.configuration())
                try await waitUntil(timeout: .seconds(30)) {
                    RedisInfoText.fields(try await follower.info("replication"))["master_link_status"] == "up"
                }
                try await log.prepare()
                for round in 0..<5 {
                    let claim = IdempotencyClaim(key: "k\(round)", fingerprint: "f", acceptedCount: 50)
                    guard case .appended(let ids, _) = try await log.append(AppendRequest(records: Self.records(50), idempotency: claim)) else {
                        Issue.record("round \(round) was not appended"); return
                    }
                    #expect(ids.count == 50)
                    // Acknowledged means on the replica already: read there at once, no waiting.
                    #expect(try await follower.xlen(log.keys.events) == (round + 1) * 50)
                    #expect(try await follower.send(RedisCommand("HEXISTS", .string(log.keys.idempotencyKeys), .string("k\(round)"))).int == 1)
                }
                // A replica that stops answering (SIGSTOP) cannot confirm: the append is reported unconfirmed,
                // and once it runs again the next append is confirmed with everything before it.
                let short = RedisEventLog(client: pool, durability: .replicated(replicas: 1, timeout: .milliseconds(300)))
                replica.pause()
                await #expect(throws: ReplicationTimeout.self) { try await short.append(Self.records(5)) }
                replica.resume()
                try await short.append(Self.records(5))
                #expect(try await follower.xlen(log.keys.events) == 5 * 50 + 10)
                await follower.close()
                await pool.close()
            }
        }
    }

    @Test func withoutAReplicaTheAppendIsReportedAsUnconfirmed() async throws {
        try await withRedisServer { primary in
            let pool = try RedisConnectionPool(url: primary.url, leaseTimeout: RedisServer.leaseTimeout)
            let log = RedisEventLog(client: pool, durability: .replicated(replicas: 1, timeout: .milliseconds(100)))
            try await log.prepare()
            let failure = await #expect(throws: ReplicationTimeout.self) { try await log.append(Self.records(10)) }
            #expect(failure == ReplicationTimeout(required: 1, acknowledged: 0))
            // The primary has the entries: the outcome is unknown to the client, not "not stored".
            #expect(try await log.figures().length == 10)
            await pool.close()
        }
    }
}
