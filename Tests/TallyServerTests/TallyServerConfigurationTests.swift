import Logging
import TallyMetrics
import TallyPipeline
import Testing
@testable import TallyServer

@Suite struct TallyServerConfigurationTests {
    @Test func windowAndScoreSettingsAreValidatedWithTheirReason() throws {
        var configuration = TallyServerConfiguration()
        try configuration.validateState()
        configuration.state.windowSeconds = 7
        #expect(throws: InvalidSetting.self) { try configuration.validateState() }
        configuration.state.windowSeconds = 600
        configuration.scorePeriod = .milliseconds(500)
        do {
            try configuration.validateState()
            Issue.record("a 0.5 s score period was accepted")
        } catch {
            #expect(error.description.contains("--score-period"))
        }
        configuration.scorePeriod = .seconds(10)
        configuration.score.latencyWeight = .nan
        #expect(throws: InvalidSetting.self) { try configuration.validateState() }
        configuration.score = ScoreFormula()
        try configuration.score.setWeights("latency=2, tools = 1")
        #expect(configuration.score.latencyWeight == 2 && configuration.score.toolSuccessWeight == 1 && configuration.score.acceptanceWeight == 0.5)
        try configuration.validateState()
    }

    @Test func everySettingThatCannotWorkIsRefusedNamingItsOption() throws {
        try TallyServerConfiguration().validate()
        let cases: [(String, (inout TallyServerConfiguration) -> Void)] = [
            ("--port", { $0.port = 0 }),
            ("--port", { $0.port = 65536 }),
            ("--workers must be 0", { $0.workers = -1 }),
            ("--workers 0 runs an ingest-only node and needs --redis", { $0.workers = 0 }),
            ("--redis-lease-timeout", { $0.redisLeaseTimeout = .milliseconds(5) }),
            ("--shards must be from 1 to 256, got 0", { $0.shards = 0 }),
            ("--shards must be from 1 to 256, got 257", { $0.shards = 257 }),
            ("--worker-shards must list distinct shards from 0 to 2, got 3", { $0.shards = 3; $0.workerShards = [3] }),
            ("--worker-shards must list distinct shards from 0 to 2, got 1,1", { $0.shards = 3; $0.workerShards = [1, 1] }),
            ("--worker-shards must list distinct shards from 0 to 0, got ", { $0.workerShards = [] }),
            ("--durability replicated needs --redis", { $0.durability = .replicated(replicas: 1, timeout: .seconds(1)) }),
            ("--durability replicated needs at least 1 replica", { $0.redisURL = "redis://x"; $0.durability = .replicated(replicas: 1, timeout: .seconds(61)) }),
            ("--max-body-bytes", { $0.maxBodyBytes = 1023 }),
            ("--idempotency-window", { $0.idempotencyWindow = .seconds(31 * 86_400) }),
            ("--idempotency-max-keys", { $0.idempotencyMaxKeys = 0 }),
            ("--dedupe-window", { $0.dedupeWindow = .milliseconds(500) }),
            ("--append-timeout", { $0.appendTimeout = .milliseconds(10) }),
            ("--sampling-max-lag", { $0.samplingMaxLag = 0 }),
            ("sampling probabilities", { $0.samplingMinProbability = 0.5; $0.samplingMaxProbability = 0.4 }),
            ("sampling probabilities", { $0.samplingMinProbability = .nan }),
            ("--sampling-interval", { $0.samplingInterval = .seconds(3601) }),
            ("--window", { $0.state.windowSeconds = 7 }),
            ("--score-period", { $0.scorePeriod = .zero }),
        ]
        for (option, change) in cases {
            var configuration = TallyServerConfiguration()
            change(&configuration)
            #expect(throws: InvalidSetting.self, "\(option)") { try configuration.validate() }
            do { try configuration.validate() } catch { #expect(error.description.contains(option), "\(error)") }
        }
        // An ingest-only node with a Redis URL is fine.
        var ingestOnly = TallyServerConfiguration()
        ingestOnly.workers = 0
        ingestOnly.redisURL = "redis://127.0.0.1:6379"
        try ingestOnly.validate()
    }

    @Test func theStartUpLineShowsNoPartOfAPasswordHoldingAnAtSign() {
        var configuration = TallyServerConfiguration()
        configuration.redisURL = "redis://user:p@ss@w0rd@cache.local:6379/2"
        configuration.token = "t0ken"
        let line = configuration.loggable
        #expect(line.contains("redis=redis://***@cache.local:6379/2"), "\(line)")
        for secret in ["p@ss", "ss@", "w0rd", "user:", "t0ken"] {
            #expect(!line.contains(secret), "\(secret) in \(line)")
        }
    }

    @Test func aNodeRunsItsWorkersOnEveryShardOrOnTheShardsItWasGiven() async throws {
        var configuration = TallyServerConfiguration()
        configuration.shards = 3
        configuration.workers = 2
        let everyShard = try PipelineNode(configuration: configuration, registry: MetricsRegistry(), logger: Logger(label: "test"))
        #expect(everyShard.workers.workers.count == 6)
        configuration.workerShards = [2, 0]
        let node = try PipelineNode(configuration: configuration, registry: MetricsRegistry(), logger: Logger(label: "test"))
        #expect(node.workers.workers.count == 4)
        // Each worker reads the log of a shard it was given, two workers per shard.
        func shard(of worker: PipelineWorker) -> Int? {
            node.log.shards.firstIndex { ($0 as? MemoryEventLog) === (worker.log as? MemoryEventLog) }
        }
        #expect(node.workers.workers.map(shard).sorted { ($0 ?? -1) < ($1 ?? -1) } == [0, 0, 2, 2])
        await everyShard.close()
        await node.close()
    }
}
