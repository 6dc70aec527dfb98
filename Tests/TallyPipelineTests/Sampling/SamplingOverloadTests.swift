import Foundation
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

/// Ingest faster than the workers can apply: the sampler, fed the log's lag,
/// engages; the lag stays bounded; estimates stay within 3 standard errors of
/// the truth; critical events are counted exactly.
@Suite struct SamplingOverloadTests {
    /// What one run sent and what the store ended with.
    struct Outcome {
        var sentCompletions = 0.0
        var sentToolSuccesses = 0.0
        var sentToolFailures = 0.0
        var sentErrors = 0.0
        var storedCompletions = 0.0
        var storedToolSuccesses = 0.0
        var storedToolFailures = 0.0
        var storedErrors = 0.0
        /// Σ w(w−1) over kept sampled events: an unbiased estimate of the estimator's variance.
        var completionVariance = 0.0
        var toolSuccessVariance = 0.0
        var maxLag = 0
        var minProbability = 1.0
        var sampledOut: Int64 = 0
    }

    static let maxLag = 2_000
    static let eventsPerTick = 1_000
    static let consumedPerTick = 300
    static let ticks = 30

    /// One simulated run on the in-memory log: per tick, one NDJSON batch through
    /// the ingestor, one slow consumer step, one sampler adjustment from the lag.
    static func run(seed: UInt64) async throws -> Outcome {
        let store = MemoryStateStore()
        let log = MemoryEventLog(store: store)
        try await log.prepare()
        let metrics = try PipelineMetrics(registry: MetricsRegistry())
        let sampler = AdaptiveSampler(metrics: metrics.sampler, randomSource: .seeded(seed))
        let ingestor = EventIngestor(log: log, sampler: sampler, metrics: metrics)
        var random = SeededRandom(seed: seed ^ 0xABCD)
        var outcome = Outcome()
        let now = Date().timeIntervalSince1970
        for tick in 0..<ticks {
            var lines: [String] = []
            lines.reserveCapacity(eventsPerTick)
            for i in 0..<eventsPerTick {
                let session = "s\(tick % 7)"
                let u = random.unit()
                if u < 0.70 {
                    let accepted = random.unit() < 0.3
                    lines.append(#"{"type":"completion","session_id":"\#(session)","ts":\#(now),"latency_ms":\#(Int(20 + random.unit() * 300)),"accepted":\#(accepted)}"#)
                    outcome.sentCompletions += 1
                } else if u < 0.93 {
                    let success = random.unit() < 0.9
                    lines.append(#"{"type":"tool_call","session_id":"\#(session)","ts":\#(now),"tool":"grep","success":\#(success)}"#)
                    if success { outcome.sentToolSuccesses += 1 } else { outcome.sentToolFailures += 1 }
                } else if u < 0.98 {
                    lines.append(#"{"type":"error","session_id":"\#(session)","ts":\#(now),"code":"E\#(i % 3)"}"#)
                    outcome.sentErrors += 1
                } else {
                    lines.append(#"{"type":"completion","session_id":"\#(session)","ts":\#(now),"latency_ms":50,"accepted":true,"attributes":{"critical":"true"}}"#)
                    outcome.sentCompletions += 1
                }
            }
            try await ingestor.ingest(Array(lines.joined(separator: "\n").utf8), format: .ndjson)
            try await consume(log, count: consumedPerTick, outcome: &outcome)
            sampler.adjust(pressure: Double(try await log.figures().lag) / Double(maxLag))
            outcome.maxLag = max(outcome.maxLag, try await log.figures().lag)
            outcome.minProbability = min(outcome.minProbability, sampler.probability)
        }
        while try await log.figures().lag > 0 {
            try await consume(log, count: 1_000, outcome: &outcome)
        }
        let window = try await store.window(now: now)
        outcome.storedCompletions = window.completions
        let tools = try await store.toolCallTotals()
        outcome.storedToolSuccesses = tools["grep"]?.success ?? 0
        outcome.storedToolFailures = tools["grep"]?.failure ?? 0
        outcome.storedErrors = try await store.errorCodeTotals().values.reduce(0, +)
        outcome.sampledOut = metrics.sampledOut.value
        return outcome
    }

    /// The slow worker: reads up to `count` entries and commits their weighted delta.
    static func consume(_ log: MemoryEventLog, count: Int, outcome: inout Outcome) async throws {
        let entries = try await log.read(consumer: "slow", from: .new, count: count, block: nil)
        guard !entries.isEmpty else { return }
        let records = try entries.map { try EventRecord(entryFields: $0.fields!) }
        for record in records where record.weight > 1 {
            let variance = record.weight * (record.weight - 1)
            switch record.event.type {
            case .completion: outcome.completionVariance += variance
            case .toolCall: outcome.toolSuccessVariance += variance
            default: Issue.record("a critical event was sampled: \(record.event.type)")
            }
        }
        let delta = DeltaCalculator.delta(for: records, bucketSeconds: StateConfiguration.default.bucketSeconds)
        let outcome = try await log.committer.commit(BatchCommit(acknowledged: entries.map(\.id), delta: delta), consumer: "slow", now: Date().timeIntervalSince1970)
        #expect(outcome == .committed)
    }

    @Test func underOverloadSamplingEngagesLagStaysBoundedAndEstimatesStayWithinThreeStandardErrors() async throws {
        for seed in UInt64(1)...8 {
            let o = try await Self.run(seed: seed)
            // Without sampling the lag would reach 30 × 700 = 21,000 entries.
            #expect(o.minProbability < 0.5 && o.sampledOut > 0, "seed \(seed): sampling did not engage")
            #expect(o.maxLag <= 2 * Self.maxLag, "seed \(seed): lag reached \(o.maxLag)")
            // Critical events: exact.
            #expect(o.storedErrors == o.sentErrors, "seed \(seed)")
            #expect(o.storedToolFailures == o.sentToolFailures, "seed \(seed)")
            // Sampled events: unbiased, within 3 standard errors.
            let completionSE = o.completionVariance.squareRoot()
            #expect(abs(o.storedCompletions - o.sentCompletions) <= 3 * max(completionSE, 1),
                    "seed \(seed): completions \(o.storedCompletions) vs \(o.sentCompletions), SE \(completionSE)")
            let toolSE = o.toolSuccessVariance.squareRoot()
            #expect(abs(o.storedToolSuccesses - o.sentToolSuccesses) <= 3 * max(toolSE, 1),
                    "seed \(seed): tool successes \(o.storedToolSuccesses) vs \(o.sentToolSuccesses), SE \(toolSE)")
        }
    }
}
