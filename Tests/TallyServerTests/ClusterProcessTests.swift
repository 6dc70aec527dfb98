import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TallyPipeline
import TallyRedis
import TallyTesting

/// `tally serve` and `tally worker` on a real local Redis Cluster (3 primaries), given
/// comma-separated seed URLs: Tally finds out it is a cluster by itself, runs its single shard in
/// the `{tally}` slot, and the numbers come out exact.
@Suite struct ClusterProcessTests {
    @Test func aNodeAndAWorkerRunTheirShardOnACluster() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0)
        let seeds = cluster.nodes.prefix(3).map(\.url).joined(separator: ",")
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let serve = try ServeProcessTests.startServe(port: port, redis: seeds, arguments: ["--workers", "1"])
        let worker = try WorkerProcessTests.startWorker(redis: cluster.nodes[2].url)
        let client = HTTPClient.shared
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))

        var generator = SessionEventGenerator(sessions: 30, seed: 6379)
        var expected = ExactTotals()
        for _ in 0..<10 {
            let batch = generator.batch(200)
            expected.add(contentsOf: try EventDecoder().decodeBatch(Array(batch.utf8), format: .ndjson))
            #expect(try await RetryExactnessTests.post(base, batch, client: client).status == 202)
        }

        let redis = RedisClusterClient(configuration: .init(seeds: cluster.seeds, leaseTimeout: RedisServer.leaseTimeout))
        let log = RedisEventLog(client: redis)
        let drained = try await eventually(seconds: 60) {
            let figures = try await log.figures()
            return figures.lag == 0 && figures.pending == 0 && figures.length > 0
        }
        #expect(drained)
        #expect(try await ExactTotals.read(from: RedisStateStore(client: redis), now: nil) == expected)
        let json = try await ServeProcessTests.metricsJSON(base, client: client)
        #expect(json["completions"] as? Double == expected.completions)
        // Every key of the shard lives on the primary of the {tally} slot.
        let home = try #require(redis.primary(forSlot: HashSlot.of("tally")))
        // The node's pool for that primary is instrumented under its address.
        let (_, exposition) = try await ServeProcessTests.get(base + "/metrics", client: client)
        #expect(exposition.contains(#"db_query_duration_seconds_count{pool="redis@\#(home)",query_type="evalsha"}"#), "\(exposition.prefix(3000))")
        #expect(exposition.contains(#"db_pool_max_connections{pool="redis@\#(home)"}"#))
        for node in cluster.nodes {
            let connection = try await RedisConnection.connect(node.configuration())
            let role = try await connection.send(RedisCommand("ROLE")).array?.first?.string
            let keys = try await connection.send(RedisCommand("DBSIZE")).int ?? 0
            await connection.close()
            if role == "master" { #expect((keys > 0) == (home.hasSuffix(":\(node.port)")), "\(node.port): \(keys) keys") }
        }

        serve.terminate()
        worker.terminate()
        await serve.exited()
        await worker.exited()
        await redis.close()
        await cluster.stop()
    }
}
