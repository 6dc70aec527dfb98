import Foundation
import Synchronization
import Testing
@testable import TallyRedis
import TallyTesting

/// The cluster client against a real local cluster of 3 primaries (and 3 replicas where a primary is killed).
@Suite(.serialized) struct RedisClusterClientTests {
    static func client(_ cluster: LocalRedisCluster, attempts: Int = 6) -> RedisClusterClient {
        RedisClusterClient(configuration: .init(seeds: cluster.seeds, maximumConnectionsPerNode: 4, leaseTimeout: .seconds(5), maximumAttempts: attempts))
    }

    static func port(_ node: String) -> Int { Int(node.split(separator: ":").last!)! }

    /// 200 tasks incrementing `keys` in turn until `done`, half of them one command at a time, half
    /// in transactions (`MULTI` … `EXEC`) of one; returns how many increments they sent.
    static func incrementLoad(_ client: RedisClusterClient, keys: [String], until done: StopFlag) -> Task<Int, any Error> {
        Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<200 {
                    group.addTask {
                        var sent = 0
                        while !done.isSet {
                            let increment = RedisCommand("INCR", .string(keys[(task + sent) % keys.count]))
                            if task % 2 == 0 {
                                _ = try await client.send(increment)
                            } else {
                                let replies = try await client.sendTransaction([increment], replicas: 0, timeout: .zero).replies
                                #expect(replies.count == 1 && replies[0].int != nil, "\(replies)")
                            }
                            sent += 1
                            // Concurrency, not throughput, is the point: leave the suite's two cores some air.
                            try await Task.sleep(for: .milliseconds(2))
                        }
                        return sent
                    }
                }
                return try await group.reduce(0, +)
            }
        }
    }

    @Test func keysSpreadOverEveryPrimaryAndBatchesComeBackInOrder() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0)  // no failover here: 3 nodes keep the suite light
        let client = Self.client(cluster)
        try await client.connect()
        #expect(client.primaries.count == 3)
        for i in 0..<300 { #expect(try await client.set("key-\(i)", to: .string("value-\(i)"))) }
        // Every primary holds some of them.
        for primary in client.primaries {
            let node = try #require(cluster.nodes.first { $0.port == Self.port(primary) })
            let connection = try await RedisConnection.connect(node.configuration())
            #expect((try await connection.send(RedisCommand("DBSIZE"))).int ?? 0 > 50, "\(primary)")
            await connection.close()
        }
        // Commands without keys go where they are told: INFO of the {tally} slot's node.
        let home = try #require(client.primary(forSlot: HashSlot.of("tally")))
        let info = try await client.keyless(onNodeOf: "{tally}:events").send(RedisCommand("INFO", "server")).string ?? ""
        #expect(info.contains("tcp_port:\(Self.port(home))"), "\(home)")
        // One batch over every node: the replies in the order of the commands.
        let replies = try await client.send(batch: (0..<300).map { RedisCommand("GET", .string("key-\($0)")) })
        #expect(replies.map(\.string) == (0..<300).map { "value-\($0)" })
        // A script's keys share a hash tag, and the script is loaded where it runs.
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) + redis.call('INCRBY', KEYS[2], ARGV[1])")
        #expect(try await client.evalScript(script, keys: ["{tally}:a", "{tally}:b"], arguments: [.integer(2)]).int == 4)
        #expect(try await client.evalScript(script, keys: ["{tally}:a", "{tally}:b"], arguments: [.integer(1)]).int == 6)
        // A transaction runs on the node of its keys' slot, its replies in order.
        let transaction = try await client.sendTransaction([RedisCommand("INCRBY", "{tally}:a", 10), RedisCommand("GET", "{tally}:a"),
                                                            RedisCommand("INCR", "{tally}:b")], replicas: 0, timeout: .zero)
        #expect(transaction.replies.count == 3 && transaction.replicas == 0, "\(transaction)")
        #expect(transaction.replies.first?.int == 13 && transaction.replies[1].string == "13" && transaction.replies.last?.int == 4, "\(transaction)")
        // A transaction over keys of two slots is refused before anything is sent.
        await #expect(throws: RedisError.crossSlot(command: "MULTI", keys: ["tx-a", "tx-b"])) {
            _ = try await client.sendTransaction([RedisCommand("SET", "tx-a", "1"), RedisCommand("SET", "tx-b", "1")], replicas: 0, timeout: .zero)
        }
        #expect(try await client.send(batch: [RedisCommand("EXISTS", "tx-a"), RedisCommand("EXISTS", "tx-b")]).map(\.int) == [0, 0])
        // Keys of different slots in one command are refused before anything is sent.
        await #expect(throws: RedisError.crossSlot(command: "EVALSHA", keys: ["a", "b"])) {
            _ = try await client.evalScript(script, keys: ["a", "b"], arguments: [.integer(1)])
        }
        // A blocking read on the stream's node.
        try await client.xgroupCreate("{tally}:events", group: "g", startID: "0", makeStream: true)
        let reading = Task { try await client.xreadgroup(group: "g", consumer: "c", streams: [("{tally}:events", ">")], count: 1, block: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        _ = try await client.xadd("{tally}:events", fields: [("event", "e")])
        #expect(try await reading.value.first?.entries.count == 1)
        await client.close()
        await cluster.stop()
    }

    /// Every node speaks only TLS, to clients and to each other: the client reads the announced TLS
    /// ports and reaches every primary with the seeds' CA and server name.
    @Test func aTLSClusterIsReachedOnEveryNode() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0, tls: true)
        let client = Self.client(cluster)
        try await client.connect()
        #expect(client.primaries.count == 3)
        let replies = try await client.send(batch: (0..<90).map { RedisCommand("SET", .string("tls-\($0)"), .string("v\($0)")) })
        #expect(replies.allSatisfy { $0.string == "OK" })
        #expect(try await client.send(batch: (0..<90).map { RedisCommand("GET", .string("tls-\($0)")) }).map(\.string) == (0..<90).map { "v\($0)" })
        for primary in client.primaries {
            let node = try #require(cluster.nodes.first { $0.port == Self.port(primary) })
            let connection = try await RedisConnection.connect(node.configuration())
            #expect((try await connection.send(RedisCommand("DBSIZE"))).int ?? 0 > 10, "\(primary)")
            await connection.close()
        }
        await client.close()
        await cluster.stop()
    }

    /// A slot moved by hand under load: `ASK` while its keys migrate, then `MOVED`; every one of
    /// 200 concurrent tasks' increments lands exactly once.
    @Test func aSlotMigratedUnderLoadLosesAndDuplicatesNothing() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0)
        let client = Self.client(cluster, attempts: 10)
        try await client.connect()
        let slot = HashSlot.of("moving")
        let keys = (0..<20).map { "{moving}:\($0)" }
        let source = try #require(client.primary(forSlot: slot))
        let target = try #require(client.primaries.first { $0 != source })
        let sourceID = try await cluster.nodeID(port: Self.port(source))
        let targetID = try await cluster.nodeID(port: Self.port(target))
        for key in keys { _ = try await client.send(RedisCommand("SET", .string(key), "0")) }

        let done = StopFlag()
        let load = Self.incrementLoad(client, keys: keys, until: done)
        try await Task.sleep(for: .milliseconds(300))
        let sourceNode = try #require(cluster.nodes.first { $0.port == Self.port(source) })
        let targetNode = try #require(cluster.nodes.first { $0.port == Self.port(target) })
        let src = try await RedisConnection.connect(sourceNode.configuration())
        let dst = try await RedisConnection.connect(targetNode.configuration())
        _ = try await dst.send(RedisCommand("CLUSTER", "SETSLOT", .integer(slot), "IMPORTING", .string(sourceID)))
        _ = try await src.send(RedisCommand("CLUSTER", "SETSLOT", .integer(slot), "MIGRATING", .string(targetID)))
        // Half the keys first (the rest stay on the source: ASK for the moved ones), then the rest.
        for part in [keys.prefix(10), keys.suffix(10)] {
            _ = try await src.send(RedisCommand("MIGRATE", arguments: ["127.0.0.1", .integer(targetNode.port), "", 0, 5000, "KEYS"] + part.map { .string($0) }))
            try await Task.sleep(for: .milliseconds(300))
        }
        for node in cluster.nodes {
            let connection = try await RedisConnection.connect(node.configuration())
            _ = try? await connection.send(RedisCommand("CLUSTER", "SETSLOT", .integer(slot), "NODE", .string(targetID)))
            await connection.close()
        }
        try await Task.sleep(for: .milliseconds(300))
        done.set()
        let sent = try await load.value
        await src.close()
        await dst.close()

        let values = try await client.send(batch: keys.map { RedisCommand("GET", .string($0)) })
        #expect(values.compactMap { $0.string.flatMap(Int.init) }.reduce(0, +) == sent)
        #expect(client.primary(forSlot: slot) == target)
        await client.close()
        await cluster.stop()
    }

    /// A blocking read waits on the stream's node; when the slot moves to another node, the read
    /// follows it (Redis unblocks it with a redirect) and still gets the entry written after the move.
    @Test func aBlockingReadFollowsItsSlotToAnotherNode() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0)
        let client = Self.client(cluster)
        try await client.connect()
        let stream = "{wandering}:events"
        let slot = HashSlot.of("wandering")
        try await client.xgroupCreate(stream, group: "g", startID: "$", makeStream: true)
        let source = try #require(client.primary(forSlot: slot))
        let target = try #require(client.primaries.first { $0 != source })
        let reading = Task { try await client.xreadgroup(group: "g", consumer: "c", streams: [(stream, ">")], count: 1, block: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(300))

        try await Self.moveSlot(slot, from: source, to: target, in: cluster)

        let started = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(300))
        _ = try await client.xadd(stream, fields: [("event", "after the move")])
        let read = try await reading.value
        #expect(read.first?.entries.first?.fields?.first?.value == "after the move")
        #expect(ContinuousClock.now - started < .seconds(15), "the read waited for its whole block instead of following the slot")
        #expect(client.primary(forSlot: slot) == target)
        await client.close()
        await cluster.stop()
    }

    /// Moves `slot` with its keys from the primary `source` to `target` (``LocalRedisCluster/migrateSlot(_:from:to:chunk:pause:)``).
    static func moveSlot(_ slot: Int, from source: String, to target: String, in cluster: LocalRedisCluster) async throws {
        try await cluster.migrateSlot(slot, from: port(source), to: port(target))
    }

    /// A slot moved back and forth eight times under 200 concurrent tasks: nothing hangs, every
    /// increment lands once, and the client keeps one pool per primary with no caller left waiting.
    @Test func topologyChurnUnderTwoHundredTasksNeitherHangsNorLeaks() async throws {
        let cluster = try await LocalRedisCluster.start(replicas: 0)
        let client = Self.client(cluster, attempts: 10)
        try await client.connect()
        let slot = HashSlot.of("churn")
        let keys = (0..<10).map { "{churn}:\($0)" }
        for key in keys { _ = try await client.send(RedisCommand("SET", .string(key), "0")) }
        let home = try #require(client.primary(forSlot: slot))
        let away = try #require(client.primaries.first { $0 != home })
        let done = StopFlag()
        let load = Self.incrementLoad(client, keys: keys, until: done)
        for cycle in 0..<8 {
            let (from, to) = cycle % 2 == 0 ? (home, away) : (away, home)
            try await Self.moveSlot(slot, from: from, to: to, in: cluster)
            try await Task.sleep(for: .milliseconds(200))
        }
        done.set()
        let sent = try await load.value
        let values = try await client.send(batch: keys.map { RedisCommand("GET", .string($0)) })
        #expect(values.compactMap { $0.string.flatMap(Int.init) }.reduce(0, +) == sent)
        #expect(client.nodePools.count <= 3)
        for (node, pool) in client.nodePools {
            #expect(pool.statistics.waiting == 0 && pool.statistics.open <= 4, "\(node): \(pool.statistics)")
        }
        await client.close()
        await cluster.stop()
    }

    /// A primary killed with SIGKILL: its replica is promoted and the client follows; writes made
    /// durable with `WAIT 1` before the kill are all there; meanwhile commands fail fast.
    @Test func aKilledPrimaryIsReplacedByItsReplicaAndDurableWritesSurvive() async throws {
        let cluster = try await LocalRedisCluster.start()
        let client = Self.client(cluster)
        try await client.connect()
        let keys = (0..<50).map { "{durable}:\($0)" }
        for key in keys {
            let (_, replicas) = try await client.sendDurably(RedisCommand("SET", .string(key), .string(key)), replicas: 1, timeout: .seconds(5))
            #expect(replicas == 1)
        }
        let victim = try #require(client.primary(forSlot: HashSlot.of("durable")))
        await cluster.nodes.first { $0.port == Self.port(victim) }!.kill()

        let started = ContinuousClock.now
        var answered = false
        while ContinuousClock.now - started < .seconds(30) {
            let attempt = ContinuousClock.now
            do {
                let replies = try await client.send(batch: keys.map { RedisCommand("GET", .string($0)) })
                if replies.allSatisfy({ $0.string != nil }) {
                    #expect(replies.map(\.string) == keys)
                    answered = true
                    break
                }
            } catch {
                // Failing fast while no primary serves the slot.
                #expect(ContinuousClock.now - attempt < .seconds(10), "a command waited \(ContinuousClock.now - attempt): \(error)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(answered, "the promoted replica never answered")
        #expect(client.primary(forSlot: HashSlot.of("durable")) != victim)
        await client.close()
        await cluster.stop()
    }
}

/// Tells load tasks to stop.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
