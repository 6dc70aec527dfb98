import BenchmarkHarness
import CoreMetrics
import Foundation
import Prometheus
import TallyMetrics

/// The side-by-side cases; each builds both sides the same way and times them in turn.
enum MetricsCases {
    /// Renders per side (`TALLY_BENCH_RENDER_RUNS`, default 41); raise it to profile rendering alone.
    static let renderRuns = Int(ProcessInfo.processInfo.environment["TALLY_BENCH_RENDER_RUNS"] ?? "") ?? 41

    /// Observation values shared by both sides (0…12, so every bucket is hit).
    static let values: [Double] = {
        var random = SystemRandomNumberGenerator()
        return (0..<1024).map { _ in Double.random(in: 0...12, using: &random) }
    }()

    static func counterOneThread() throws -> Comparison {
        let tally = try MetricsRegistry().register(TallyMetrics.Counter.self, name: "ops_total", help: "Ops.")
        let peer = PrometheusCollectorRegistry().makeCounter(descriptor: MetricNameDescriptor(metricName: "ops", unitName: "total", helpText: "x"))
        let n = 50_000_000 / scale
        let t = Harness.nanosecondsPerOperation(iterations: n) { for _ in 0..<$0 { tally.increment() } }
        let p = Harness.nanosecondsPerOperation(iterations: n) { for _ in 0..<$0 { peer.increment() } }
        return Comparison(name: "counter increment, 1 thread", unit: "ns", tally: t, peer: p, requiredSpeedup: 1.0)
    }

    /// Two threads on one counter; time per operation of the pair (inverse throughput).
    static func counterTwoThreads() throws -> Comparison {
        let tally = try MetricsRegistry().register(TallyMetrics.Counter.self, name: "ops_total", help: "Ops.")
        let peer = PrometheusCollectorRegistry().makeCounter(descriptor: MetricNameDescriptor(metricName: "ops", unitName: "total", helpText: "x"))
        let n = 80_000_000 / scale
        let t = Harness.parallelNanosecondsPerOperation(threads: 2, iterations: n) { for _ in 0..<$0 { tally.increment() } }
        let p = Harness.parallelNanosecondsPerOperation(threads: 2, iterations: n) { for _ in 0..<$0 { peer.increment() } }
        return Comparison(name: "counter increment, 2 threads, one counter", unit: "ns", tally: t, peer: p, requiredSpeedup: 1.5)
    }

    static func histogramObserve() throws -> Comparison {
        let buckets = HistogramBuckets.defaultSeconds
        let tally = try MetricsRegistry().register(TallyMetrics.Histogram.self, name: "latency_seconds", help: "x", options: buckets)
        let peer = PrometheusCollectorRegistry().makeValueHistogram(
            descriptor: MetricNameDescriptor(metricName: "latency", unitName: "seconds", helpText: "x"), buckets: buckets.upperBounds
        )
        let values = self.values
        let n = 20_000_000 / scale
        let t = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { tally.observe(values[i & 1023]) } }
        let p = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { peer.record(values[i & 1023]) } }
        return Comparison(name: "histogram observe, 11 buckets", unit: "ns", tally: t, peer: p, requiredSpeedup: 3.0)
    }

    /// Finding an existing series by (name, value) pairs, then incrementing it; 100 label sets.
    static func labelledLookup() throws -> Comparison {
        let methods = ["GET", "POST", "PUT", "DELETE"]
        let labels: [[(String, String)]] = (0..<100).map { i in [("method", methods[i % 4]), ("status", String(200 + i))] }
        let family = try MetricsRegistry().registerFamily(
            TallyMetrics.Counter.self, name: "requests_total", help: "x", labelNames: ["method", "status"]
        )
        let peerRegistry = PrometheusCollectorRegistry()
        // No help text: the lookup path the 219 ns baseline measured.
        let descriptor = MetricNameDescriptor(metricName: "requests_total", unitName: "", helpText: "")
        for pairs in labels {
            family.labels(pairs).increment()
            peerRegistry.makeCounter(descriptor: descriptor, labels: pairs).increment()
        }
        let n = 2_000_000 / scale
        let t = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { family.labels(labels[i % 100]).increment() } }
        let p = Harness.nanosecondsPerOperation(iterations: n) {
            for i in 0..<$0 { peerRegistry.makeCounter(descriptor: descriptor, labels: labels[i % 100]).increment() }
        }
        return Comparison(name: "labelled lookup + increment (2 labels)", unit: "ns", tally: t, peer: p, requiredSpeedup: 3.0)
    }

    static func swiftMetricsTimer() throws -> Comparison {
        let tallyTimer = CoreMetrics.Timer(label: "request.duration", factory: TallyMetricsFactory(registry: MetricsRegistry()))
        let peerTimer = CoreMetrics.Timer(label: "request.duration", factory: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
        let n = 10_000_000 / scale
        let t = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { tallyTimer.recordNanoseconds(Int64(i & 0xFFFFF) * 1_000) } }
        let p = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { peerTimer.recordNanoseconds(Int64(i & 0xFFFFF) * 1_000) } }
        return Comparison(name: "swift-metrics Timer.recordNanoseconds", unit: "ns", tally: t, peer: p, requiredSpeedup: 3.0)
    }

    static func createSeries() throws -> Comparison {
        let ids = (0..<16_000).map { String($0) }
        let t = Harness.milliseconds(runs: 3) {
            let family = try! MetricsRegistry().registerFamily(
                TallyMetrics.Counter.self, name: "series_total", help: "x", labelNames: ["id"], maxSeries: 20_000
            )
            for id in ids { family.labels(id).increment() }
        }
        let descriptor = MetricNameDescriptor(metricName: "series", unitName: "total", helpText: "x")
        let p = Harness.milliseconds(runs: quick ? 1 : 3) {
            let registry = PrometheusCollectorRegistry()
            for id in ids { registry.makeCounter(descriptor: descriptor, labels: [("id", id)]).increment() }
        }
        return Comparison(name: "create 16,000 series in one family", unit: "ms", tally: t, peer: p, requiredSpeedup: 50)
    }

    static func renderCounters() throws -> Comparison {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(TallyMetrics.Counter.self, name: "series_total", help: "x", labelNames: ["id"], maxSeries: 20_000)
        let peerRegistry = PrometheusCollectorRegistry()
        let descriptor = MetricNameDescriptor(metricName: "series", unitName: "total", helpText: "x")
        for i in 0..<10_000 {
            family.labels(String(i)).increment(by: Int64(i))
            peerRegistry.makeCounter(descriptor: descriptor, labels: [("id", String(i))]).increment(by: Int64(i))
        }
        let t = Harness.milliseconds(runs: self.renderRuns) { blackHole(registry.render(format: .prometheusText)) }
        let p = Harness.milliseconds(runs: self.renderRuns) { blackHole(peerRegistry.emitToBuffer()) }
        return Comparison(name: "render 10,000 counter series", unit: "ms", tally: t, peer: p, requiredSpeedup: 1.0)
    }

    static func renderHistograms() throws -> Comparison {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(
            TallyMetrics.Histogram.self, name: "latency_seconds", help: "x", labelNames: ["route"], options: .defaultSeconds
        )
        let peerRegistry = PrometheusCollectorRegistry()
        let descriptor = MetricNameDescriptor(metricName: "latency", unitName: "seconds", helpText: "x")
        for i in 0..<1_000 {
            let route = "/route/\(i)"
            let histogram = family.labels(route)
            let peer = peerRegistry.makeValueHistogram(descriptor: descriptor, labels: [("route", route)], buckets: HistogramBuckets.defaultSeconds.upperBounds)
            for j in 0..<10 {
                histogram.observe(self.values[(i + j) & 1023])
                peer.record(self.values[(i + j) & 1023])
            }
        }
        let t = Harness.milliseconds(runs: self.renderRuns) { blackHole(registry.render(format: .prometheusText)) }
        let p = Harness.milliseconds(runs: self.renderRuns) { blackHole(peerRegistry.emitToBuffer()) }
        return Comparison(name: "render 1,000 histograms", unit: "ms", tally: t, peer: p, requiredSpeedup: 2.0)
    }
}
