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

let server = try await RedisServer.start(tls: overTLS ? .required(requireClientCertificate: false) : nil)
print("redis-server on 127.0.0.1:\(server.port) (no persistence\(overTLS ? ", TLS only" : "")); best of \(rounds) run(s) per side")
print("")
print("scenario                    conns  pipe   tally ops/s   redis-benchmark ops/s   ratio   target")
print("--------------------------  -----  ----  ------------  ----------------------  ------  ------")
var failed = false
do {
    for scenario in scenarios where only.map({ scenario.command[0].lowercased() == $0 }) ?? true {
        let pool = RedisConnectionPool(
            configuration: RedisPoolConfiguration(connection: server.configuration(), maximumConnections: scenario.clients)
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
