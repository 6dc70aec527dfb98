import BenchmarkHarness
import TallyMetrics
import TallyPipeline

/// ns per `shouldKeep()` decision: the p = 1 fast path, p = 0.1 with the
/// per-thread and the seeded generator, with and without meta-metrics, and on
/// two threads at once.
enum SamplerDecisionBenchmark {
    static func run(quick: Bool) {
        let n = quick ? 5_000_000 : 50_000_000
        print("Sampler decision (target <= 5 ns), \(n) decisions per run, median of 7:")
        func measure(_ name: String, _ sampler: AdaptiveSampler) {
            let ns = Harness.nanosecondsPerOperation(iterations: n) { count in
                var total = 0.0
                for _ in 0..<count { total += sampler.shouldKeep() ?? 0 }
                blackHole(total.bitPattern)
            }
            print("  " + name.padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: "%6.2f ns  %@", ns, ns <= 5 ? "met" : "NOT met"))
        }
        let full = AdaptiveSampler()
        measure("p = 1 (everything kept), no meta-metrics", full)
        let plain = AdaptiveSampler()
        plain.setProbability(0.1)
        measure("p = 0.1, per-thread generator, no meta-metrics", plain)
        let seeded = AdaptiveSampler(randomSource: .seeded(1))
        seeded.setProbability(0.1)
        measure("p = 0.1, seeded atomic-counter generator, no meta-metrics", seeded)
        let metered = AdaptiveSampler(metrics: try! SamplerMetrics(registry: MetricsRegistry()))
        measure("p = 1, with meta-metrics (seen, kept)", metered)
        metered.setProbability(0.1)
        measure("p = 0.1, per-thread generator, with meta-metrics", metered)
        let two = Harness.parallelNanosecondsPerOperation(threads: 2, iterations: n) { count in
            var total = 0.0
            for _ in 0..<count { total += metered.shouldKeep() ?? 0 }
            blackHole(total.bitPattern)
        }
        print("  " + "p = 0.1, with meta-metrics, 2 threads (wall ns / decision)".padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: "%6.2f ns", two))
    }
}
