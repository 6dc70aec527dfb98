import Foundation
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyTesting

// Reads with a million live sessions, on one throwaway redis-server, in one run:
//   - a node's refresh of the global metrics (what `/metrics` and `GET /v1/metrics` read): the
//     window, the totals, the score and the leader's stored session figures;
//   - the peer: reading every live session, which is what each read cost before the leader stored
//     the figures, and what the leader's scan still costs once per period.
// The sessions are written through the real apply step. Median and p99 of `reads` refreshes.

let quick = CommandLine.arguments.contains("--quick")
let sessionCount = CommandLine.arguments.contains("--sessions-10k") ? 10_000 : quick ? 100_000 : 1_000_000
let reads = quick ? 50 : 200
let sessionsPerApply = 10_000

func milliseconds(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15 }

func percentile(_ sorted: [Double], _ q: Double) -> Double { sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] }

let server = try await RedisServer.start()
let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(connection: server.configuration(commandTimeout: .seconds(120)),
                                                                    maximumConnections: 4, leaseTimeout: .seconds(60)))
let store = RedisStateStore(client: pool)
let log = RedisEventLog(client: pool)
try await log.prepare()

// A million live sessions, each with a few tool calls, plus a busy window.
let now = try await store.now()
var random = SeededRandom(seed: 5)
let setupStarted = ContinuousClock.now
for start in stride(from: 0, to: sessionCount, by: sessionsPerApply) {
    var delta = StateDelta()
    for i in start..<min(start + sessionsPerApply, sessionCount) {
        let first = now - 1500 * random.unit()
        let last = first + (now - first) * random.unit()
        delta.sessions["session-\(i)"] = SessionDelta(firstSeen: first, lastSeen: last, toolCalls: Double(random.next() % 40), endedAt: nil)
    }
    // The same busy window whatever the number of sessions: 20,000 completions and 20,000 tool calls.
    var events: [TelemetryEvent] = []
    for i in 0..<(20_000 * sessionsPerApply / sessionCount) {
        events.append(.completion(id: "c\(start)-\(i)", session: "session-\(start)", at: now - 290 * random.unit(),
                                  latencyMilliseconds: 50 + 2000 * random.unit(), accepted: random.unit() < 0.4))
        events.append(.toolCall(id: "t\(start)-\(i)", session: "session-\(start)", at: now - 290 * random.unit(),
                                tool: ["grep", "edit", "run_tests"][i % 3], success: random.unit() < 0.9))
    }
    let window = DeltaCalculator.delta(for: events.map { EventRecord(event: $0) }, bucketSeconds: 10)
    delta.buckets = window.buckets
    delta.toolCalls = window.toolCalls
    try await log.committer.apply(delta)
}
print("setup: \(sessionCount) live sessions applied in \(String(format: "%.1f", milliseconds(ContinuousClock.now - setupStarted) / 1000)) s")

// The leader's round: one scan of every live session, stored.
let leaderStarted = ContinuousClock.now
_ = try await ScoreLeader(store: store, node: "leader").runOnce()
let leaderRound = milliseconds(ContinuousClock.now - leaderStarted)
let figures = try await store.sessionFigures()
precondition(figures?.active == sessionCount, "the leader counted \(String(describing: figures?.active)) sessions, not \(sessionCount)")

// Every other node: refreshes that read the stored figures.
let registry = MetricsRegistry()
let exporter = try DerivedMetricsExporter(registry: registry, reader: DerivedMetricsReader(store: store, log: log))
for _ in 0..<5 { try await exporter.refresh() }  // warm the connections
var refreshes: [Double] = []
for _ in 0..<reads {
    let started = ContinuousClock.now
    let metrics = try await exporter.refresh()
    refreshes.append(milliseconds(ContinuousClock.now - started))
    precondition(metrics.activeSessions == sessionCount)
}
refreshes.sort()
var renders: [Double] = []
for _ in 0..<reads {
    let started = ContinuousClock.now
    _ = registry.renderString(format: .prometheusText)
    renders.append(milliseconds(ContinuousClock.now - started))
}
renders.sort()

// Where a refresh's time goes (medians).
func medianOf(_ body: () async throws -> Void) async throws -> Double {
    var times: [Double] = []
    for _ in 0..<(quick ? 20 : 50) {
        let started = ContinuousClock.now
        try await body()
        times.append(milliseconds(ContinuousClock.now - started))
    }
    return percentile(times.sorted(), 0.5)
}
let parts = [
    ("TIME", try await medianOf { _ = try await store.now() }),
    ("window (31 bucket hashes, merged)", try await medianOf { _ = try await store.window() }),
    ("window round trip alone", try await medianOf {
        let starts = store.configuration.windowBuckets(now: try await store.now())
        _ = try await pool.send(batch: starts.map { RedisCommand("HGETALL", .string(store.keys.bucket($0))) })
    }),
    ("tool and code totals", try await medianOf { _ = try await store.toolCallTotals(); _ = try await store.errorCodeTotals() }),
    ("session figures", try await medianOf { _ = try await store.sessionFigures() }),
    ("score", try await medianOf { _ = try await store.score() }),
    ("log figures", try await medianOf { _ = try await log.figures() }),
]

// The peer: reading every live session, as each read did before.
var scans: [Double] = []
for _ in 0..<(quick ? 3 : 5) {
    let started = ContinuousClock.now
    var seen = 0
    try await store.scanActiveSessions(now: try await store.now()) { seen += $0.count }
    precondition(seen == sessionCount)
    scans.append(milliseconds(ContinuousClock.now - started))
}
scans.sort()

let refreshMedian = percentile(refreshes, 0.5), scanMedian = percentile(scans, 0.5)
print("""

reads with \(sessionCount) live sessions (Redis on loopback, release build)
  node refresh (window, totals, score, stored session figures): median \(String(format: "%.3f", refreshMedian)) ms, p99 \(String(format: "%.3f", percentile(refreshes, 0.99))) ms over \(reads) reads  (target ≤ 5 ms)
  /metrics render after a refresh:                              median \(String(format: "%.3f", percentile(renders, 0.5))) ms, p99 \(String(format: "%.3f", percentile(renders, 0.99))) ms
  peer — reading every live session (each read before; now the leader's scan): median \(String(format: "%.0f", scanMedian)) ms over \(scans.count) scans
  leader round (score + scan + store):                          \(String(format: "%.0f", leaderRound)) ms
  refresh parts (median ms): \(parts.map { "\($0.0) \(String(format: "%.3f", $0.1))" }.joined(separator: ", "))
  ratio refresh / full read: \(String(format: "%.5f", refreshMedian / scanMedian))  (\(String(format: "%.0f", scanMedian / refreshMedian))× cheaper)
""")
await pool.close()
await server.stop()
