import Foundation
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

@Suite struct AdaptiveSamplerTests {
    static func configuration(min: Double = 0.01, max: Double = 1) -> SamplerConfiguration {
        try! SamplerConfiguration(minimumProbability: min, maximumProbability: max)
    }

    @Test func everyDecisionKeepsWithWeightOneWhileThePressureIsLow() throws {
        let metrics = try SamplerMetrics(registry: MetricsRegistry())
        let sampler = AdaptiveSampler(metrics: metrics)
        sampler.adjust(pressure: 0.1)
        #expect(sampler.probability == 1)
        #expect((0..<10_000).allSatisfy { _ in sampler.shouldKeep() == 1 })
        #expect(metrics.seen.value == 10_000 && metrics.kept.value == 10_000 && metrics.sampledOut.value == 0)
        #expect(metrics.adjustedUp.value == 0 && metrics.adjustedDown.value == 0)
    }

    @Test func theStepRuleLowersAboveTheHighWatermarkRaisesBelowTheLowAndHoldsBetween() throws {
        let registry = MetricsRegistry()
        let metrics = try SamplerMetrics(registry: registry)
        let sampler = AdaptiveSampler(metrics: metrics)
        #expect(sampler.adjust(pressure: 0.9) == .lowered)
        #expect(sampler.probability == 0.5)  // halving: 0.8 / 0.9 > 0.5
        #expect(sampler.adjust(pressure: 0.5) == .unchanged)
        #expect(sampler.adjust(pressure: 8) == .lowered)
        #expect(abs(sampler.probability - 0.05) < 1e-12)  // by the overshoot: 0.5 × 0.8 / 8
        #expect(sampler.adjust(pressure: 1000) == .lowered)
        #expect(sampler.probability == 0.01)  // clamped to the minimum
        #expect(sampler.adjust(pressure: 1000) == .unchanged)
        #expect(sampler.adjust(pressure: 0.2) == .raised)
        #expect(sampler.probability == 0.02)
        #expect(sampler.adjust(pressure: .nan) == .unchanged)
        for _ in 0..<10 { sampler.adjust(pressure: 0) }
        #expect(sampler.probability == 1)
        #expect(metrics.adjustedDown.value == 3 && metrics.adjustedUp.value == 7)
        let text = registry.renderString()
        #expect(text.contains(#"tally_sampler_adjustments_total{direction="down"} 3"#))
        #expect(text.contains("tally_sampling_probability 1"))
    }

    @Test func invalidConfigurationsAreRefusedWithTheOffendingValue() {
        #expect(throws: SamplerConfigurationError.self) { try SamplerConfiguration(minimumProbability: 0) }
        #expect(throws: SamplerConfigurationError.self) { try SamplerConfiguration(lowerAbove: 0.3, raiseBelow: 0.5) }
        do {
            _ = try SamplerConfiguration(minimumProbability: 0.5, maximumProbability: 0.2)
        } catch {
            #expect(error.description.contains("0.5"))
        }
    }

    @Test func criticalEventsAreNeverSampledOut() {
        let sampler = AdaptiveSampler(configuration: Self.configuration(), randomSource: .seeded(3))
        sampler.setProbability(0.01)
        let events: [TelemetryEvent] = (0..<2_000).flatMap { i -> [TelemetryEvent] in
            var flagged = TelemetryEvent.completion(id: "c\(i)", session: "s", at: 1, latencyMilliseconds: 5, accepted: true)
            flagged.attributes = ["critical": "true"]
            return [
                .toolCall(id: "f\(i)", session: "s", at: 1, tool: "grep", success: false),
                .clientError(id: "e\(i)", session: "s", at: 1, code: "E1"),
                .sessionStart(id: "a\(i)", session: "s\(i)", at: 1),
                .sessionEnd(id: "z\(i)", session: "s\(i)", at: 2),
                flagged,
            ]
        }
        let (records, dropped) = sampler.sample(events)
        #expect(dropped == 0 && records.count == events.count && records.allSatisfy { $0.weight == 1 })
        let ordinary = TelemetryEvent.toolCall(id: "t", session: "s", at: 1, tool: "grep", success: true)
        #expect(!AdaptiveSampler.isCritical(ordinary))
    }

    /// N decisions at probability p, R seeded runs: the estimates Σw lie within
    /// 3 standard errors √(N(1−p)/p) of N (a normal run is outside with
    /// probability 0.27 %: at most 2 % of runs may be), their mean is within 3
    /// standard errors of the mean, and their spread matches the theoretical error.
    @Test(arguments: [0.1, 0.03, 0.01])
    func estimatedCountsStayWithinThreeStandardErrorsOverSeededRuns(p: Double) {
        let n = 20_000
        let runs = 100
        let standardError = (Double(n) * (1 - p) / p).squareRoot()
        var estimates: [Double] = []
        for run in 0..<runs {
            let sampler = AdaptiveSampler(configuration: Self.configuration(), randomSource: .seeded(UInt64(run) &* 7919 &+ 1))
            sampler.setProbability(p)
            var estimate = 0.0
            for _ in 0..<n { estimate += sampler.shouldKeep() ?? 0 }
            estimates.append(estimate)
        }
        let outside = estimates.filter { abs($0 - Double(n)) > 3 * standardError }
        #expect(outside.count <= runs / 50, "\(outside.count) of \(runs) runs outside 3 SE (\(standardError)): \(outside)")
        let mean = estimates.reduce(0, +) / Double(runs)
        #expect(abs(mean - Double(n)) < 3 * standardError / Double(runs).squareRoot(), "mean \(mean) vs \(n)")
        let spread = (estimates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(runs - 1)).squareRoot()
        #expect(abs(spread / standardError - 1) < 0.25, "empirical SE \(spread) vs theoretical \(standardError)")
    }

    @Test func decisionsFromManyThreadsAreCountedExactly() async throws {
        let metrics = try SamplerMetrics(registry: MetricsRegistry())
        let sampler = AdaptiveSampler(metrics: metrics)
        sampler.setProbability(0.25)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { for _ in 0..<50_000 { _ = sampler.shouldKeep() } }
            }
        }
        #expect(metrics.seen.value == 200_000)
        #expect(metrics.kept.value + metrics.sampledOut.value == 200_000)
        // 50,000 expected kept; SE = √(200,000 × 0.25 × 0.75) ≈ 194.
        #expect(abs(metrics.kept.value - 50_000) < 6 * 194)
    }

    @Test(arguments: Backend.allCases)
    func theIngestorAppendsWeightedRecordsAndCountsSampledOutEvents(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let registry = MetricsRegistry()
            let metrics = try PipelineMetrics(registry: registry)
            let sampler = AdaptiveSampler(metrics: metrics.sampler, randomSource: .seeded(1))
            sampler.setProbability(0.5)
            let body = (0..<200).map { _ in #"{"type":"tool_call","session_id":"s","tool":"grep","success":true}"# }.joined(separator: "\n")
            let accepted = try await EventIngestor(log: log, sampler: sampler, metrics: metrics).ingest(Array(body.utf8), format: .ndjson)
            #expect(accepted.count == 200)
            let length = try await log.figures().length
            #expect(Int64(length) + metrics.sampledOut.value == 200)
            #expect(metrics.sampler.seen.value == 200 && metrics.sampler.kept.value == Int64(length))
            #expect(metrics.queue.enqueued.value == Int64(length))
            let entries = try await log.read(consumer: "c", from: .new, count: 1000, block: nil)
            let records = try entries.map { try EventRecord(entryFields: $0.fields!) }
            #expect(records.allSatisfy { $0.weight == 2 })
            #expect(registry.renderString().contains("tally_sampling_probability 0.5"))
        }
    }
}
