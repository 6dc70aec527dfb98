import Foundation
import TallyRedis
import TallyTesting

// TallyRedis against redis-benchmark on the same throwaway server, in one run.
// Each scenario runs the same command with the same number of connections and
// pipeline depth on both sides; the best of `rounds` runs counts for each.
// `--tls`: the server speaks only TLS and both sides use it (`redis-benchmark --tls`).

let quick = CommandLine.arguments.contains("--quick")
/// `--only xadd|set|ping` runs one scenario (for profiling).
let only = CommandLine.arguments.firstIndex(of: "--only").flatMap { i in CommandLine.arguments.dropFirst(i + 1).first }
let rounds = quick ? 1 : 3
let overTLS = CommandLine.arguments.contains("--tls")
let payload = String(repeating: "x", count: 300 - #"{"type":"completion","session_id":"s-0000","latency_ms":123,"accepted":true,"attributes":{"pad":""}}"#.count)
let event = #"{"type":"completion","session_id":"s-0000","latency_ms":123,"accepted":true,"attributes":{"pad":"\#(payload)"}}"#

struct Scenario {
    let name: String
    let clients: Int
    let pipeline: Int
    let requests: Int
    let target: Double
    let command: [String]
}

let scenarios = [
    Scenario(name: "XADD ~300 B, pipelined", clients: 16, pipeline: 64, requests: quick ? 100_000 : 400_000, target: overTLS ? 0.7 : 0.5,
             command: ["XADD", "bench:events", "MAXLEN", "~", "100000", "*", "event", event]),
    Scenario(name: "SET, unpipelined", clients: 50, pipeline: 1, requests: quick ? 50_000 : 200_000, target: overTLS ? 0.7 : 0.8,
             command: ["SET", "bench:key", "value"]),
    Scenario(name: "PING, unpipelined", clients: 50, pipeline: 1, requests: quick ? 50_000 : 200_000, target: overTLS ? 0.7 : 0.8,
             command: ["PING"]),
]

/// Runs `scenario` through a TallyRedis pool: `clients` tasks, each sending
/// batches of `pipeline` commands (one flush per batch) or single commands.
func runTally(_ scenario: Scenario, pool: RedisConnectionPool) async throws -> Double {
    let command = RedisCommand(scenario.command.map { .string($0) })
    let perClient = scenario.requests / scenario.clients
    let batch = Array(repeating: command, count: scenario.pipeline)
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<scenario.clients {
            group.addTask {
                if scenario.pipeline == 1 {
                    for _ in 0..<perClient { _ = try await pool.send(command) }
                } else {
                    for _ in 0..<(perClient / scenario.pipeline) {
                        let replies = try await pool.send(batch: batch)
                        if case .error(let message) = replies[0] { throw RedisError.server(command: command.name, message: message) }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let seconds = Double((ContinuousClock.now - start).components.attoseconds) / 1e18 + Double((ContinuousClock.now - start).components.seconds)
    let done = scenario.pipeline == 1 ? perClient * scenario.clients : (perClient / scenario.pipeline) * scenario.pipeline * scenario.clients
    return Double(done) / seconds
}

func format(_ opsPerSecond: Double) -> String {
    String(format: "%10.0f", opsPerSecond)
}

if CommandLine.arguments.contains("--cluster") {
    try await runClusterBenchmark()
    exit(0)
}

/// Pipelined `XADD` on a local 3-primary cluster: the cluster client, each batch over three stream
/// keys (one per primary, so every batch is split per node, 64 commands per node), beside
/// `redis-benchmark -P 64` run at once on every primary with that primary's key (the per-node sum:
/// `redis-benchmark --cluster` routes only its built-in tests).
func runClusterBenchmark() async throws {
    let cluster = try await LocalRedisCluster.start(primaries: 3, replicas: 0)
    let clients = 16, pipeline = 64, requests = quick ? 100_000 : 400_000
    let client = RedisClusterClient(configuration: .init(seeds: cluster.seeds, maximumConnectionsPerNode: clients, leaseTimeout: .seconds(10)))
    try await client.connect()
    // One key per primary.
    var keyOf: [String: String] = [:]
    var n = 0
    while keyOf.count < 3 {
        let key = "bench:\(n)"
        if let node = client.primary(forSlot: HashSlot.of(key)), keyOf[node] == nil { keyOf[node] = key }
        n += 1
    }
    let nodes = keyOf.keys.sorted()
    let keys = nodes.map { keyOf[$0]! }
    let keyOfNode = keyOf
    func runTallyCluster(_ total: Int) async throws -> Double {
        let perClient = total / clients / pipeline
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    // Each batch holds `pipeline` commands for every primary, so that each node gets the same
                    // pipeline depth as redis-benchmark's `-P`: the client splits it into one flush per node.
                    let batch = (0..<(pipeline * keys.count)).map { RedisCommand(["XADD", .string(keys[$0 % keys.count]), "MAXLEN", "~", "100000", "*", "event", .string(event)]) }
                    for _ in 0..<(perClient / keys.count) {
                        let replies = try await client.send(batch: batch)
                        if case .error(let message) = replies[0] { throw RedisError.server(command: "XADD", message: message) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        return Double((perClient / keys.count) * keys.count * clients * pipeline) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    func runReference() async throws -> Double {
        try await withThrowingTaskGroup(of: Double.self) { group in
            for node in nodes {
                let port = Int(node.split(separator: ":").last!)!
                group.addTask {
                    try await RedisBenchmarkTool.run(port: port, clients: max(1, clients / 3), requests: requests / 3, pipeline: pipeline,
                                                     command: ["XADD", keyOfNode[node]!, "MAXLEN", "~", "100000", "*", "event", event])
                }
            }
            return try await group.reduce(0, +)
        }
    }
    _ = try await runTallyCluster(clients * pipeline * 20)  // warm-up: connections to every node
    var tally = 0.0, reference = 0.0
    for _ in 0..<rounds {
        reference = max(reference, try await runReference())
        tally = max(tally, try await runTallyCluster(requests))
    }
    await client.close()
    await cluster.stop()
    print("local Redis Cluster, 3 primaries; XADD ~300 B to one stream per primary, \(clients) clients, pipeline \(pipeline); best of \(rounds)")
    print(String(format: "cluster client: %.0f ops/s   redis-benchmark on every primary at once (sum): %.0f ops/s   ratio %.1f%%  (target ≥ 50%%)",
                 tally, reference, 100 * tally / reference))
    print(tally / reference >= 0.5 ? "RESULT: target met" : "RESULT: below target")
}

let server = try await RedisServer.start(tls: overTLS ? .required(requireClientCertificate: false) : nil)
print("redis-server on 127.0.0.1:\(server.port) (no persistence\(overTLS ? ", TLS only" : "")); best of \(rounds) run(s) per side")
print("")
print("scenario                    conns  pipe   tally ops/s   redis-benchmark ops/s   ratio   target")
print("--------------------------  -----  ----  ------------  ----------------------  ------  ------")
var failed = false
do {
    for scenario in scenarios where only.map({ scenario.command[0].lowercased() == $0 }) ?? true {
        let pool = RedisConnectionPool(
            configuration: try RedisPoolConfiguration(connection: server.configuration(), maximumConnections: scenario.clients, leaseTimeout: .seconds(10))
        )
        _ = try await runTally(Scenario(name: "", clients: scenario.clients, pipeline: scenario.pipeline, requests: scenario.clients * scenario.pipeline * 20, target: 0, command: scenario.command), pool: pool) // warm-up, opens the connections
        var tally = 0.0
        var reference = 0.0
        for _ in 0..<rounds {
            reference = max(reference, try await RedisBenchmarkTool.run(port: server.port, clients: scenario.clients, requests: scenario.requests, pipeline: scenario.pipeline, command: scenario.command, tls: server.certificates))
            tally = max(tally, try await runTally(scenario, pool: pool))
        }
        await pool.close()
        let ratio = tally / reference
        if ratio < scenario.target { failed = true }
        print("\(scenario.name.padding(toLength: 26, withPad: " ", startingAt: 0))  \(String(format: "%5d", scenario.clients))  \(String(format: "%4d", scenario.pipeline))  \(format(tally))    \(format(reference))              \(String(format: "%5.1f%%", ratio * 100))  \(String(format: "≥%3.0f%%", scenario.target * 100))")
    }
} catch {
    print("benchmark failed: \(error)")
    failed = true
}
await server.stop()
print("")
print(failed ? "RESULT: below target (or failed)" : "RESULT: all targets met")
