import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TallyLoad
import TallyPipeline
import TallyRedis
import TallyTesting

/// `--shards 3` over a real local Redis Cluster: each shard on its own primary, worker processes
/// serving every shard, a primary killed under `--durability replicated`, and the global numbers
/// equal to an exact offline computation of the events every time. One test at a time: each starts
/// a cluster and several Tally processes, and the whole suite shares two cores.
@Suite(.serialized) struct ShardedClusterTests {
    /// A reader of the deployment's shards, as the nodes see them.
    struct View {
        let client: RedisClusterClient
        let log: ShardedEventLog
        let store: any StateStore

        init(_ cluster: LocalRedisCluster, shards: Int) throws {
            let client = RedisClusterClient(configuration: .init(seeds: cluster.seeds, leaseTimeout: RedisServer.leaseTimeout))
            let backend = ShardedBackend.redis(client: client, layout: try ShardLayout(count: shards))
            self.client = client
            log = backend.log
            store = backend.store
        }

        /// Waits until no shard has an entry undelivered or pending, then reads the totals.
        func settledTotals() async throws -> ExactTotals {
            let drained = try await eventually(seconds: 90) {
                guard let figures = try? await log.figures() else { return false }
                return figures.lag == 0 && figures.pending == 0 && figures.length > 0
            }
            #expect(drained)
            return try await ExactTotals.read(from: store, now: nil)
        }
    }

    /// Posts `body` with `key` until it is answered 202 (as a client that retries a 503 does), for up to 90 s.
    static func postUntilAccepted(_ base: String, _ body: String, key: String, client: HTTPClient) async throws -> RetryExactnessTests.Posted? {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let answer = try? await RetryExactnessTests.post(base, body, key: key, client: client) {
                if answer.status == 202 { return answer }
                #expect(answer.status == 503, "\(answer.status): \(answer.body)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    @Test func threeShardsSpreadOverThePrimariesAndWorkerProcessesKilledAtRandomStayExact() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0)
        let seeds = cluster.nodes.map(\.url).joined(separator: ",")
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        // An ingest-only node and three worker processes, every one serving all three shards.
        let serve = try ServeProcessTests.startServe(port: port, redis: seeds, arguments: ["--workers", "0", "--shards", "3"])
        var workers = try (0..<3).map { _ in try WorkerProcessTests.startWorker(redis: seeds, arguments: ["--shards", "3", "--concurrency", "1"]) }
        let client = HTTPClient.shared
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))

        var generator = SessionEventGenerator(sessions: 60, seed: 3)
        var expected = ExactTotals()
        for index in 0..<16 {
            let batch = generator.batch(250)
            expected.add(contentsOf: try EventDecoder().decodeBatch(Array(batch.utf8), format: .ndjson))
            let answer = try await RetryExactnessTests.post(base, batch, key: "batch-\(index)", client: client)
            #expect(answer.status == 202, "\(answer.body)")
            if index % 5 == 4 {
                // A worker dies mid-batch; another takes its place (its entries are claimed after 1 s).
                let victim = index / 5 % workers.count
                kill(workers[victim].processIdentifier, SIGKILL)
                await workers[victim].exited()
                workers[victim] = try WorkerProcessTests.startWorker(redis: seeds, arguments: ["--shards", "3", "--concurrency", "1"])
            }
        }

        let view = try View(cluster, shards: 3)
        #expect(try await view.settledTotals() == expected)
        let json = try await ServeProcessTests.metricsJSON(base, client: client)
        #expect(json["completions"] as? Double == expected.completions)

        // `tally shards`: three shards, each on its own primary, none with an entry waiting.
        let shards = try await StartupChecksTests.runTally(["shards", "--redis", seeds, "--shards", "3"])
        #expect(shards.status == 0, "\(shards.stderr)")
        let rows = shards.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.count == 3, "\(shards.stdout)")
        #expect(Set(rows.compactMap { $0.count > 3 ? $0[3] : nil }).count == 3, "\(shards.stdout)")
        #expect(rows.allSatisfy { $0.count == 8 && $0[5] == "0" && $0[6] == "0" && $0[7] == "0" }, "\(shards.stdout)")
        for node in cluster.nodes {
            let connection = try await RedisConnection.connect(node.configuration())
            let keys = try await connection.send(RedisCommand("DBSIZE")).int ?? 0
            await connection.close()
            #expect(keys > 0, "primary \(node.port) holds no key: the shards did not spread")
        }

        // The count is recorded: a worker started with another one is refused with one clear line.
        let refused = try await StartupChecksTests.runTally(["worker", "--redis", seeds, "--shards", "2"])
        #expect(refused.status != nil && refused.status != 0)
        let lines = refused.stderr.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1 && lines[0].contains("runs 3 shard(s)") && lines[0].contains("--shards 3"), "\(refused.stderr)")
        let letters = try await StartupChecksTests.runTally(["dlq", "list", "--redis", seeds, "--shards", "3"])
        #expect(letters.status == 0 && letters.stdout.contains("0 dead letter(s)"), "\(letters.stdout) \(letters.stderr)")
        // The operator commands, which write nothing, check it too: with another count they would read other keys.
        for command in [["shards"], ["dlq", "list"]] {
            let wrong = try await StartupChecksTests.runTally(command + ["--redis", seeds, "--shards", "1"])
            let said = wrong.stderr.split(separator: "\n").filter { !$0.isEmpty }
            #expect(wrong.status != nil && wrong.status != 0 && said.count == 1 && said[0].contains("runs 3 shard(s)"), "\(command): \(wrong.stderr)")
        }

        await RetryExactnessTests.stop([serve] + workers)
        await view.client.close()
        await cluster.stop()
    }

    @Test func aPrimaryKilledUnderReplicatedDurabilityLosesNoAcknowledgedEventAndCountsNoneTwice() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 1)
        let seeds = cluster.nodes.map(\.url).joined(separator: ",")
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let serve = try ServeProcessTests.startServe(port: port, redis: seeds, arguments: [
            "--workers", "1", "--shards", "3", "--durability", "replicated", "--durability-wait", "2",
            "--append-timeout", "5", "--redis-lease-timeout", "2",
        ])
        let worker = try WorkerProcessTests.startWorker(redis: seeds, arguments: ["--shards", "3", "--concurrency", "1"])
        let client = HTTPClient.shared
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))

        let view = try View(cluster, shards: 3)
        try await view.client.connect()
        let victimSlot = HashSlot.of(view.log.layout.shardKeys[1].tag)
        let victim = try #require(view.client.primary(forSlot: victimSlot))

        var generator = SessionEventGenerator(sessions: 60, seed: 11)
        var expected = ExactTotals()
        var accepted = 0
        var returned: Task<Void, any Error>?
        for index in 0..<30 {
            let batch = generator.batch(100)
            expected.add(contentsOf: try EventDecoder().decodeBatch(Array(batch.utf8), format: .ndjson))
            if index == 10 {
                // The primary of shard 1 dies; its replica is promoted within seconds. Until the dead
                // node is back (as the new primary's replica), nothing can be replicated for shard 1:
                // its batches are answered 503 and retried.
                let node = try #require(cluster.nodes.first { victim.hasSuffix(":\($0.port)") })
                await node.kill()
                returned = Task {
                    try await Task.sleep(for: .seconds(5))
                    try await node.restart()
                }
            }
            if try await Self.postUntilAccepted(base, batch, key: "batch-\(index)", client: client) != nil { accepted += 1 }
        }
        try await returned?.value
        #expect(accepted == 30, "every batch is accepted once shard 1 has a primary and a replica again")
        // Everything answered 202 is there, exactly once, on the promoted replica too.
        #expect(try await view.settledTotals() == expected)
        #expect(view.client.primary(forSlot: victimSlot) != victim, "shard 1 is served by the promoted replica")

        await RetryExactnessTests.stop([serve, worker])
        await view.client.close()
        await cluster.stop()
    }

    @Test func aShardsSlotMigratedToAnotherPrimaryUnderLoadStaysExact() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0)
        let seeds = cluster.nodes.map(\.url).joined(separator: ",")
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let serve = try ServeProcessTests.startServe(port: port, redis: seeds, arguments: ["--workers", "1", "--shards", "3"])
        let worker = try WorkerProcessTests.startWorker(redis: seeds, arguments: ["--shards", "3", "--concurrency", "1"])
        let client = HTTPClient.shared
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))

        let view = try View(cluster, shards: 3)
        try await view.client.connect()
        let slot = HashSlot.of(view.log.layout.shardKeys[0].tag)
        let source = try #require(view.client.primary(forSlot: slot))
        let target = try #require(view.client.primaries.first { $0 != source })
        func nodePort(_ node: String) -> Int { Int(node.split(separator: ":").last!)! }

        var generator = SessionEventGenerator(sessions: 60, seed: 5)
        var expected = ExactTotals()
        var migration: Task<Void, any Error>?
        for index in 0..<30 {
            let batch = generator.batch(100)
            expected.add(contentsOf: try EventDecoder().decodeBatch(Array(batch.utf8), format: .ndjson))
            if index == 8 {
                // Shard 0's keys move a few at a time while events keep coming: ASK and TRYAGAIN, then MOVED.
                migration = Task { try await cluster.migrateSlot(slot, from: nodePort(source), to: nodePort(target), chunk: 5, pause: .milliseconds(100)) }
            }
            #expect(try await Self.postUntilAccepted(base, batch, key: "batch-\(index)", client: client) != nil)
        }
        try await migration?.value
        #expect(try await view.settledTotals() == expected)
        #expect(view.client.primary(forSlot: slot) == target)
        let json = try await ServeProcessTests.metricsJSON(base, client: client)
        #expect(json["completions"] as? Double == expected.completions)

        await RetryExactnessTests.stop([serve, worker])
        await view.client.close()
        await cluster.stop()
    }
}
