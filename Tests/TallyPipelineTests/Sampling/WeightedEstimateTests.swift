import Foundation
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

/// The weights make the calculator's counts, ratios and sketches unbiased: over
/// many seeded runs at p = 0.1 the mean estimate is within 3 standard errors
/// of the mean (the runs' spread / √runs) of the exact value.
@Suite struct WeightedEstimateTests {
    @Test func weightedCountsRatiosAndQuantilesAreUnbiased() {
        let n = 5_000
        let runs = 200
        var random = SeededRandom(seed: 42)
        let events: [TelemetryEvent] = (0..<n).map { i in
            // Log-normal latencies around 100 ms; 30 % accepted.
            let latency = 100 * Foundation.exp(0.6 * random.normal())
            return .completion(id: "\(i)", session: "s", at: 1_000, latencyMilliseconds: latency, accepted: random.unit() < 0.3)
        }
        let exact = DeltaCalculator.delta(for: events.map { EventRecord(event: $0) }, bucketSeconds: 10).buckets.values.first!
        let exactRatio = exact.accepted / exact.completions
        let exactP50 = exact.latency.quantile(0.5)!
        let exactP90 = exact.latency.quantile(0.9)!

        var counts: [Double] = [], ratios: [Double] = [], p50s: [Double] = [], p90s: [Double] = []
        for run in 0..<runs {
            let sampler = AdaptiveSampler(randomSource: .seeded(UInt64(run) + 100))
            sampler.setProbability(0.1)
            let bucket = DeltaCalculator.delta(for: sampler.sample(events).records, bucketSeconds: 10).buckets.values.first!
            counts.append(bucket.completions)
            ratios.append(bucket.accepted / bucket.completions)
            p50s.append(bucket.latency.quantile(0.5)!)
            p90s.append(bucket.latency.quantile(0.9)!)
        }
        func check(_ name: String, _ values: [Double], _ truth: Double, slack: Double = 0) {
            let mean = values.reduce(0, +) / Double(values.count)
            let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
            let standardError = sd / Double(values.count).squareRoot()
            #expect(abs(mean - truth) <= 3 * standardError + slack, "\(name): mean \(mean) vs exact \(truth), SE \(standardError)")
        }
        check("count", counts, Double(n))
        check("acceptance ratio", ratios, exactRatio)
        // The sketch itself has a 1 % relative error; that much slack on top.
        check("p50", p50s, exactP50, slack: 0.01 * exactP50)
        check("p90", p90s, exactP90, slack: 0.01 * exactP90)
    }
}
