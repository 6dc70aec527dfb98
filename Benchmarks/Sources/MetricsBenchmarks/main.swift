import CoreMetrics
import Foundation
import Prometheus
import TallyMetrics

// Tally's metrics core against swift-prometheus 2.4.1, in one process, one run.
// Speedup = swift-prometheus time / Tally time (> 1: Tally is faster).

let quick = CommandLine.arguments.contains("--quick")
let scale = quick ? 10 : 1
var rows: [Comparison] = []
@MainActor func record(_ row: Comparison) {
    rows.append(row)
    print("  measured: \(row.name) — Tally " + String(format: "%.2f ", row.tally) + row.unit + ", swift-prometheus " + String(format: "%.2f ", row.peer) + row.unit)
    fflush(nil)
}

// Values shared by both sides.
var generator = SystemRandomNumberGenerator()
let values: [Double] = (0..<1024).map { _ in Double.random(in: 0...12, using: &generator) }

// 1. Counter increment, one thread.
do {
    let tally = try MetricsRegistry().register(TallyMetrics.Counter.self, name: "ops_total", help: "Ops.")
    let peer = PrometheusCollectorRegistry().makeCounter(name: "ops_total")
    let n = 50_000_000 / scale
    let t = Harness.nanosecondsPerOperation(iterations: n) { for _ in 0..<$0 { tally.increment() } }
    let p = Harness.nanosecondsPerOperation(iterations: n) { for _ in 0..<$0 { peer.increment() } }
    record(Comparison(name: "counter increment, 1 thread", unit: "ns", tally: t, peer: p, requiredSpeedup: 1.0))
}

// 2. Counter increment, two threads on one counter (time per operation of the pair).
do {
    let tally = try MetricsRegistry().register(TallyMetrics.Counter.self, name: "ops_total", help: "Ops.")
    let peer = PrometheusCollectorRegistry().makeCounter(name: "ops_total")
    let n = 40_000_000 / scale
    let t = Harness.parallelNanosecondsPerOperation(threads: 2, iterations: n) { for _ in 0..<$0 { tally.increment() } }
    let p = Harness.parallelNanosecondsPerOperation(threads: 2, iterations: n) { for _ in 0..<$0 { peer.increment() } }
    record(Comparison(name: "counter increment, 2 threads, one counter", unit: "ns", tally: t, peer: p, requiredSpeedup: 1.5))
}

// 3. Histogram observe, 11 buckets.
do {
    let buckets = HistogramBuckets.defaultSeconds
    let tally = try MetricsRegistry().register(TallyMetrics.Histogram.self, name: "latency_seconds", help: "x", options: buckets)
    let peer = PrometheusCollectorRegistry().makeValueHistogram(name: "latency_seconds", buckets: buckets.upperBounds)
    let n = 20_000_000 / scale
    let t = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { tally.observe(values[i & 1023]) } }
    let p = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { peer.record(values[i & 1023]) } }
    record(Comparison(name: "histogram observe, 11 buckets", unit: "ns", tally: t, peer: p, requiredSpeedup: 3.0))
}

// 4. Labelled lookup + increment: 100 existing label sets, labels given as pairs.
do {
    let methods = ["GET", "POST", "PUT", "DELETE"]
    let labels: [[(String, String)]] = (0..<100).map { i in [("method", methods[i % 4]), ("status", String(200 + i))] }
    let registry = MetricsRegistry()
    let family = try registry.registerFamily(TallyMetrics.Counter.self, name: "requests_total", help: "x", labelNames: ["method", "status"])
    let peerRegistry = PrometheusCollectorRegistry()
    for pairs in labels {
        family.labels(pairs).increment()
        peerRegistry.makeCounter(name: "requests_total", labels: pairs).increment()
    }
    let n = 2_000_000 / scale
    let t = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { family.labels(labels[i % 100]).increment() } }
    let p = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { peerRegistry.makeCounter(name: "requests_total", labels: labels[i % 100]).increment() } }
    record(Comparison(name: "labelled lookup + increment (2 labels)", unit: "ns", tally: t, peer: p, requiredSpeedup: 3.0))
}

// 5. swift-metrics Timer.recordNanoseconds through each backend.
do {
    let tallyTimer = CoreMetrics.Timer(label: "request.duration", factory: TallyMetricsFactory(registry: MetricsRegistry()))
    let peerTimer = CoreMetrics.Timer(label: "request.duration", factory: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
    let n = 10_000_000 / scale
    let t = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { tallyTimer.recordNanoseconds(Int64(i & 0xFFFFF) * 1_000) } }
    let p = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { peerTimer.recordNanoseconds(Int64(i & 0xFFFFF) * 1_000) } }
    record(Comparison(name: "swift-metrics Timer.recordNanoseconds", unit: "ns", tally: t, peer: p, requiredSpeedup: 3.0))
}

// 6. Creating 16,000 series in one family.
do {
    let ids = (0..<16_000).map { String($0) }
    let t = Harness.milliseconds(runs: 3) {
        let family = try! MetricsRegistry().registerFamily(TallyMetrics.Counter.self, name: "series_total", help: "x", labelNames: ["id"], maxSeries: 20_000)
        for id in ids { family.labels(id).increment() }
    }
    let p = Harness.milliseconds(runs: quick ? 1 : 3) {
        let registry = PrometheusCollectorRegistry()
        for id in ids { registry.makeCounter(name: "series_total", labels: [("id", id)]).increment() }
    }
    record(Comparison(name: "create 16,000 series in one family", unit: "ms", tally: t, peer: p, requiredSpeedup: 50))
}

// 7. Rendering 10,000 counter series.
do {
    let registry = MetricsRegistry()
    let family = try registry.registerFamily(TallyMetrics.Counter.self, name: "series_total", help: "x", labelNames: ["id"], maxSeries: 20_000)
    let peerRegistry = PrometheusCollectorRegistry()
    for i in 0..<10_000 {
        family.labels(String(i)).increment(by: Int64(i))
        peerRegistry.makeCounter(name: "series_total", labels: [("id", String(i))]).increment(by: Int64(i))
    }
    let t = Harness.milliseconds(runs: 21) { blackHole(registry.render(format: .prometheusText)) }
    let p = Harness.milliseconds(runs: 21) { blackHole(peerRegistry.emitToBuffer()) }
    record(Comparison(name: "render 10,000 counter series", unit: "ms", tally: t, peer: p, requiredSpeedup: 1.0))
}

// 8. Rendering 1,000 histograms.
do {
    let registry = MetricsRegistry()
    let family = try registry.registerFamily(TallyMetrics.Histogram.self, name: "latency_seconds", help: "x", labelNames: ["route"], options: .defaultSeconds)
    let peerRegistry = PrometheusCollectorRegistry()
    for i in 0..<1_000 {
        let route = "/route/\(i)"
        let histogram = family.labels(route)
        let peer = peerRegistry.makeValueHistogram(name: "latency_seconds", labels: [("route", route)], buckets: HistogramBuckets.defaultSeconds.upperBounds)
        for j in 0..<10 {
            histogram.observe(values[(i + j) & 1023])
            peer.record(values[(i + j) & 1023])
        }
    }
    let t = Harness.milliseconds(runs: 21) { blackHole(registry.render(format: .prometheusText)) }
    let p = Harness.milliseconds(runs: 21) { blackHole(peerRegistry.emitToBuffer()) }
    record(Comparison(name: "render 1,000 histograms", unit: "ms", tally: t, peer: p, requiredSpeedup: 2.0))
}

print("Tally metrics core vs swift-prometheus 2.4.1 (release build, medians; speedup = peer time / Tally time)")
printTable(rows)
print("")
OverheadBenchmark.run(quick: quick)
