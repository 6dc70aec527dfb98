import Foundation
import NIOCore
import NIOPosix
import TallyCore
import TallyRedis

/// A throwaway Redis Cluster on loopback for tests: `primaries` primaries with `replicas` replicas
/// each (`redis-server --cluster-enabled yes`, joined by `redis-cli --cluster create`), a short
/// `cluster-node-timeout` so that a killed primary's replica is promoted within seconds.
///
/// Ports are picked from 10000–21999, so that they and their cluster bus ports (port + 10000) stay
/// below the kernel's ephemeral range (from 32768), where an outgoing connection could take one;
/// a start that still loses a port to another process is retried on new ports.
public final class LocalRedisCluster: Sendable {
    public let nodes: [RedisServer]
    /// Where a TLS cluster's certificates are (removed by `stop()`).
    let certificateDirectory: String?

    private init(nodes: [RedisServer], certificateDirectory: String?) {
        self.nodes = nodes
        self.certificateDirectory = certificateDirectory
    }

    /// Connection configurations of every node, as seeds for a cluster client.
    public var seeds: [RedisConfiguration] { nodes.map { $0.configuration() } }

    /// Starts the nodes, creates the cluster and waits until every node sees all slots served. With
    /// `tls`, every node speaks only TLS, to clients and to each other, with one set of certificates.
    public static func start(primaries: Int = 3, replicas: Int = 1, nodeTimeout: Duration = .seconds(1), tls: Bool = false) async throws -> LocalRedisCluster {
        var lastError: any Error = RedisServerError.notReady("no attempt made")
        for _ in 0..<3 {
            do {
                return try await startOnce(primaries: primaries, replicas: replicas, nodeTimeout: nodeTimeout, tls: tls)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func startOnce(primaries: Int, replicas: Int, nodeTimeout: Duration, tls: Bool) async throws -> LocalRedisCluster {
        let count = primaries * (1 + replicas)
        let ports = try await freePortPairs(count)
        var nodes: [RedisServer] = []
        let certificateDirectory = tls ? "/tmp/tally-cluster-tls-" + String(UUID().uuidString.prefix(8)).lowercased() : nil
        do {
            var certificates: TestCertificates?
            if let certificateDirectory {
                certificates = try await TestCertificates.make(in: certificateDirectory)
            }
            for port in ports {
                nodes.append(try await RedisServer.start(extraArguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", String(port + 10_000),
                    "--cluster-node-timeout", String(nodeTimeout.wholeMilliseconds),
                    "--cluster-require-full-coverage", "no",
                ] + (tls ? ["--tls-cluster", "yes", "--tls-replication", "yes"] : []), tls: certificates.map { .shared($0) }, port: port))
            }
            let cli = ExternalTool.locate("redis-cli") ?? "/usr/bin/redis-cli"
            let tlsArguments = certificates.map { ["--tls", "--cacert", $0.caFile, "--sni", TestCertificates.serverName] } ?? []
            let created = try await ExternalTool.run(cli, tlsArguments + ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" }
                                                      + ["--cluster-replicas", String(replicas), "--cluster-yes"])
            guard created.status == 0 else { throw RedisServerError.notReady("redis-cli --cluster create failed: \(created.stdout.suffix(500))") }
            let cluster = LocalRedisCluster(nodes: nodes, certificateDirectory: certificateDirectory)
            try await cluster.waitUntilHealthy(primaries: primaries)
            return cluster
        } catch {
            for node in nodes { await node.stop() }
            if let certificateDirectory { try? FileManager.default.removeItem(atPath: certificateDirectory) }
            throw error
        }
    }

    /// Waits (up to 30 s) until every running node reports `cluster_state:ok` and `primaries` primaries with all slots.
    public func waitUntilHealthy(primaries: Int, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            var healthy = true
            for node in nodes where node.isRunning {
                guard let connection = try? await RedisConnection.connect(node.configuration(commandTimeout: .seconds(2))) else { healthy = false; break }
                let info = (try? await connection.send(RedisCommand("CLUSTER", "INFO")))?.string ?? ""
                let shards = (try? await connection.send(RedisCommand("CLUSTER", "SHARDS")))?.array?.count ?? 0
                await connection.close()
                last = "port \(node.port): \(info.split(whereSeparator: \.isNewline).prefix(3).joined(separator: " ")), \(shards) shards"
                if !info.contains("cluster_state:ok") || !info.contains("cluster_slots_ok:16384") || shards < primaries { healthy = false; break }
            }
            if healthy { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RedisServerError.notReady("the cluster did not become healthy within \(timeout): \(last)")
    }

    /// The node id (`CLUSTER MYID`) of the node on `port`.
    public func nodeID(port: Int) async throws -> String {
        guard let node = nodes.first(where: { $0.port == port }) else { throw RedisServerError.notReady("no node on port \(port)") }
        let connection = try await RedisConnection.connect(node.configuration())
        defer { Task { await connection.close() } }
        guard let id = try await connection.send(RedisCommand("CLUSTER", "MYID")).string else { throw RedisServerError.notReady("CLUSTER MYID") }
        return id
    }

    /// Moves `slot` from the primary on port `source` to the one on `target` the way
    /// `redis-cli --cluster reshard` does: `IMPORTING` on the target, `MIGRATING` on the source,
    /// then `MIGRATE` the slot's keys `chunk` at a time (`GETKEYSINSLOT`, waiting `pause` between
    /// chunks, so clients meet `ASK` and `TRYAGAIN`) until the source has none left, then
    /// `SETSLOT … NODE` on the target, the source and every other node (clients then meet `MOVED`).
    public func migrateSlot(_ slot: Int, from source: Int, to target: Int, chunk: Int = 100, pause: Duration = .zero) async throws {
        let sourceID = try await nodeID(port: source), targetID = try await nodeID(port: target)
        guard let sourceNode = nodes.first(where: { $0.port == source }), let targetNode = nodes.first(where: { $0.port == target }) else {
            throw RedisServerError.notReady("no node on port \(source) or \(target)")
        }
        let src = try await RedisConnection.connect(sourceNode.configuration())
        let dst = try await RedisConnection.connect(targetNode.configuration())
        do {
            _ = try await dst.send(RedisCommand("CLUSTER", "SETSLOT", .integer(slot), "IMPORTING", .string(sourceID)))
            _ = try await src.send(RedisCommand("CLUSTER", "SETSLOT", .integer(slot), "MIGRATING", .string(targetID)))
            while true {
                let keys = try await src.send(RedisCommand("CLUSTER", "GETKEYSINSLOT", .integer(slot), .integer(chunk))).array?.compactMap(\.string) ?? []
                if keys.isEmpty { break }
                _ = try await src.send(RedisCommand("MIGRATE", arguments: ["127.0.0.1", .integer(target), "", 0, 10_000, "KEYS"] + keys.map { .string($0) }))
                if pause > .zero { try await Task.sleep(for: pause) }
            }
            // The target first, then the source, then the others (as the Redis manual asks): while the
            // source already redirects to the target, the target must no longer redirect back.
            let order = [targetNode, sourceNode] + nodes.filter { $0.port != target && $0.port != source && $0.isRunning }
            for node in order {
                let connection = try await RedisConnection.connect(node.configuration())
                _ = try? await connection.send(RedisCommand("CLUSTER", "SETSLOT", .integer(slot), "NODE", .string(targetID)))
                await connection.close()
            }
        } catch {
            await src.close()
            await dst.close()
            throw error
        }
        await src.close()
        await dst.close()
    }

    public func stop() async {
        for node in nodes { await node.stop() }
        if let certificateDirectory { try? FileManager.default.removeItem(atPath: certificateDirectory) }
    }

    /// `count` ports below 55536 whose bus ports (port + 10000) are free as well.
    static func freePortPairs(_ count: Int) async throws -> [Int] {
        var ports: [Int] = []
        var tries = 0
        while ports.count < count {
            tries += 1
            guard tries < 1000 else { throw RedisServerError.notReady("no free port pairs in 10000–31999") }
            let port = Int.random(in: 10_000..<22_000)
            guard !ports.contains(port), !ports.contains(port + 10_000), !ports.contains(port - 10_000) else { continue }
            let free = await canBind(port)
            if free, await canBind(port + 10_000) { ports.append(port) }
        }
        return ports
    }

    private static func canBind(_ port: Int) async -> Bool {
        guard let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port).get() else {
            return false
        }
        try? await channel.close()
        return true
    }
}
