import TallyMetrics
import TallyPipeline
import Testing

@Suite struct AdaptiveSamplerTests {
    static let events: [TelemetryEvent] = (0..<10_000).map { i in
        i % 100 == 0 ? .sessionStart(id: "\(i)", session: "s\(i)", at: 1) : .completion(id: "\(i)", session: "s", at: 1, latencyMilliseconds: 10, accepted: i % 4 == 0)
    }

    @Test func everyEventIsKeptWhileTheLagIsWithinTheLimit() {
        let sampler = AdaptiveSampler(maxLag: 1000)
        sampler.update(lag: 1000)
        let (records, dropped) = sampler.sample(Self.events)
        #expect(dropped == 0 && records.count == Self.events.count && records.allSatisfy { $0.weight == 1 })
    }

    @Test func underOverloadWeightsKeepTheCountsUnbiasedAndSessionEventsAreAlwaysKept() {
        let sampler = AdaptiveSampler(maxLag: 1000, seed: 5)
        sampler.update(lag: 4000)
        #expect(sampler.probability == 0.25)
        let (records, dropped) = sampler.sample(Self.events)
        #expect(records.count + dropped == Self.events.count)
        #expect(records.filter { $0.event.type == .sessionStart }.count == 100)
        let estimated = records.filter { $0.event.type == .completion }.map(\.weight).reduce(0, +)
        #expect(abs(estimated - 9900) / 9900 < 0.05)
        sampler.update(lag: 1_000_000_000)
        #expect(sampler.probability == 0.01)
    }

    @Test(arguments: Backend.allCases)
    func theIngestorCountsSampledOutEventsAndExportsTheProbability(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let registry = MetricsRegistry()
            let metrics = try PipelineMetrics(registry: registry)
            let sampler = AdaptiveSampler(maxLag: 10, seed: 1)
            sampler.update(lag: 20)
            let body = (0..<200).map { _ in #"{"type":"tool_call","session_id":"s","tool":"grep","success":true}"# }.joined(separator: "\n")
            let accepted = try await EventIngestor(log: log, sampler: sampler, metrics: metrics).ingest(Array(body.utf8), format: .ndjson)
            #expect(accepted.count == 200)
            let length = try await log.figures().length
            #expect(Int64(length) + metrics.sampledOut.value == 200)
            #expect(metrics.samplingProbability.value == 0.5)
            #expect(registry.renderString().contains("tally_sampling_probability 0.5"))
        }
    }
}
