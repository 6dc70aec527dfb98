import BenchmarkHarness
import Foundation
import TallyMetrics

/// What the process collector adds to a scrape: a node-sized registry (120 series)
/// rendered with and without `ProcessMetrics`, in one run. Target: ≤ 50 µs more.
enum ProcessCollectorBenchmark {
    static func registry(withProcessMetrics: Bool) throws -> MetricsRegistry {
        let registry = MetricsRegistry()
        let requests = try registry.registerFamily(TallyMetrics.Counter.self, name: "requests_total", help: "x", labelNames: ["route", "status"])
        for route in 0..<20 {
            for status in ["200", "400", "500"] { requests.labels("r\(route)", status).increment(by: 7) }
        }
        let latency = try registry.registerFamily(Histogram.self, name: "latency_seconds", help: "x", labelNames: ["route"],
                                                  options: try HistogramBuckets([0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]))
        for route in 0..<4 { latency.labels("r\(route)").observe(0.02) }
        for i in 0..<28 { try registry.register(Gauge.self, name: "gauge_\(i)", help: "x").set(Double(i)) }
        if withProcessMetrics { try ProcessMetrics.register(in: registry) }
        return registry
    }

    static func run(quick: Bool) {
        do {
            let plain = try registry(withProcessMetrics: false)
            let collected = try registry(withProcessMetrics: true)
            let iterations = quick ? 2_000 : 20_000
            // Interleaved rounds, medians: the two sides see the same machine.
            var without: [Double] = []
            var with: [Double] = []
            for _ in 0..<(quick ? 3 : 9) {
                without.append(Harness.nanosecondsPerOperation(iterations: iterations, runs: 1) { n in
                    for _ in 0..<n { blackHole(plain.render(format: .prometheusText)) }
                })
                with.append(Harness.nanosecondsPerOperation(iterations: iterations, runs: 1) { n in
                    for _ in 0..<n { blackHole(collected.render(format: .prometheusText)) }
                })
            }
            let a = without.sorted()[without.count / 2] / 1000, b = with.sorted()[with.count / 2] / 1000
            print("")
            print("Process collector (a scrape of 120 series, with and without process_*; medians)")
            print(String(format: "  without: %.1f µs per scrape, with: %.1f µs per scrape: +%.1f µs (%.2fx); target ≤ +50 µs: %@",
                         a, b, b - a, b / a, b - a <= 50 ? "met" : "NOT met"))
        } catch {
            print("  process collector benchmark failed: \(error)")
        }
    }
}
