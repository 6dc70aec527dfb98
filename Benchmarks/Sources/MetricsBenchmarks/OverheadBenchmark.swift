import Foundation
import Prometheus
import TallyMetrics

/// The seeds' overhead case: a loop whose body does ~50–60 ns of work, run
/// bare and with one counter increment and one histogram observation per
/// iteration. Every operation is recorded (no sampling).
enum OverheadBenchmark {
    /// About 2.3 ns per round on this class of machine; calibrated at run time.
    @inline(never)
    static func work(_ seed: UInt64, rounds: Int) -> UInt64 {
        var x = seed
        for _ in 0..<rounds {
            x = (x ^ (x >> 29)) &* 0xBF58_476D_1CE4_E5B9
        }
        return x
    }

    static func run(quick: Bool) {
        let n = quick ? 2_000_000 : 20_000_000
        // Calibrate the work to 50–60 ns.
        var rounds = 8
        var bare = 0.0
        while true {
            let r = rounds
            bare = Harness.nanosecondsPerOperation(iterations: n / 10) { count in
                var acc: UInt64 = 0
                for i in 0..<count { acc &+= work(UInt64(i), rounds: r) }
                blackHole(acc)
            }
            if bare >= 50 || rounds > 1_000 { break }
            rounds = max(rounds + 1, Int(Double(rounds) * 55 / bare))
        }
        let registry = MetricsRegistry()
        let counter = try! registry.register(TallyMetrics.Counter.self, name: "work_total", help: "x")
        let histogram = try! registry.register(TallyMetrics.Histogram.self, name: "work_seconds", help: "x", options: .defaultSeconds)
        let peerRegistry = PrometheusCollectorRegistry()
        let peerCounter = peerRegistry.makeCounter(name: "work_total")
        let peerHistogram = peerRegistry.makeValueHistogram(name: "work_seconds", buckets: HistogramBuckets.defaultSeconds.upperBounds)

        let r = rounds
        let bareTime = Harness.nanosecondsPerOperation(iterations: n) { count in
            var acc: UInt64 = 0
            for i in 0..<count { acc &+= work(UInt64(i), rounds: r) }
            blackHole(acc)
        }
        let tallyTime = Harness.nanosecondsPerOperation(iterations: n) { count in
            var acc: UInt64 = 0
            for i in 0..<count {
                let result = work(UInt64(i), rounds: r)
                acc &+= result
                counter.increment()
                histogram.observe(Double(result & 0xFFFF) * 1e-5)
            }
            blackHole(acc)
        }
        let peerTime = Harness.nanosecondsPerOperation(iterations: n) { count in
            var acc: UInt64 = 0
            for i in 0..<count {
                let result = work(UInt64(i), rounds: r)
                acc &+= result
                peerCounter.increment()
                peerHistogram.record(Double(result & 0xFFFF) * 1e-5)
            }
            blackHole(acc)
        }
        let recorded = counter.value
        let tallyOverhead = (tallyTime - bareTime) / bareTime * 100
        let peerOverhead = (peerTime - bareTime) / bareTime * 100
        print("Overhead case: \(String(format: "%.1f", bareTime)) ns of work per iteration (\(r) rounds), counter + histogram per iteration")
        print(String(format: "  bare %.2f ns | Tally %.2f ns (overhead %.2f %%, target < 5 %%: ", bareTime, tallyTime, tallyOverhead)
              + (tallyOverhead < 5 ? "met" : "NOT met")
              + String(format: ") | swift-prometheus %.2f ns (overhead %.2f %%)", peerTime, peerOverhead))
        let expected = Int64(n) * 8 + Int64(min(n, 10_000))  // 7 timed runs + 1 warm-up
        print("  every operation recorded: counter = \(recorded), expected \(expected): \(recorded == expected ? "exact" : "MISMATCH")")
    }
}
