import Foundation
import TallyPipeline

/// The relative error of the estimated count Σw of N events sampled at p,
/// over many seeded runs, against the theoretical √((1−p)/(pN)).
enum EstimationErrorBenchmark {
    static func run(quick: Bool) {
        let n = 100_000
        let runs = quick ? 200 : 1_000
        print("Estimation error of the count of N = \(n) events, \(runs) seeded runs per p:")
        print("  p       theoretical rel. SE   empirical rel. SD   mean |rel. error|   max |rel. error|   mean rel. bias")
        for p in [0.1, 0.03, 0.01] {
            var errors: [Double] = []
            errors.reserveCapacity(runs)
            for run in 0..<runs {
                let sampler = AdaptiveSampler(randomSource: .seeded(UInt64(run) &* 0x9E37_79B9 &+ 17))
                sampler.setProbability(p)
                var estimate = 0.0
                for _ in 0..<n { estimate += sampler.shouldKeep() ?? 0 }
                errors.append((estimate - Double(n)) / Double(n))
            }
            let mean = errors.reduce(0, +) / Double(runs)
            let sd = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(runs - 1)).squareRoot()
            let meanAbs = errors.map(abs).reduce(0, +) / Double(runs)
            let maxAbs = errors.map(abs).max()!
            let theory = ((1 - p) / (p * Double(n))).squareRoot()
            print(String(format: "  %-6.2f  %8.4f %%            %8.4f %%          %8.4f %%          %8.4f %%         %+8.4f %%",
                         p, theory * 100, sd * 100, meanAbs * 100, maxAbs * 100, mean * 100))
        }
    }
}
