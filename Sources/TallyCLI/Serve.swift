import ArgumentParser
import CoreMetrics
import Logging
import TallyMetrics
import TallyPipeline
import TallyServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API, in-process workers and /metrics (embedded in-memory backend without --redis)."
    )

    @Option(help: "Address to listen on (TALLY_HOST).")
    var host = environment("HOST") ?? "127.0.0.1"

    @Option(help: "Port to listen on (TALLY_PORT).")
    var port = Int(environment("PORT") ?? "") ?? 8080

    /// Without `--redis` the node runs on the embedded in-memory log and state and is not durable.
    @OptionGroup var redis: RedisOptions

    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var score: ScoreOptions

    @Flag(help: "Start even though Redis's maxmemory-policy may evict keys, which makes the metrics silently wrong; refused otherwise (TALLY_ALLOW_EVICTION=1).")
    var allowEviction = false

    @Option(help: "In-process worker tasks for each shard; 0 runs an ingest-only node, which needs --redis and `tally worker` processes (TALLY_WORKERS).")
    var workers = Int(environment("WORKERS") ?? "") ?? 2

    @Option(help: "Bearer token required by POST /v1/events (TALLY_TOKEN).")
    var token = environment("TOKEN") ?? ""

    @Option(help: "Largest request body in bytes (TALLY_MAX_BODY_BYTES).")
    var maxBodyBytes = Int(environment("MAX_BODY_BYTES") ?? "") ?? (1 << 20)

    @Option(help: "Seconds an Idempotency-Key is remembered, shared by every node through the log (TALLY_IDEMPOTENCY_WINDOW).")
    var idempotencyWindow = Double(environment("IDEMPOTENCY_WINDOW") ?? "") ?? 86_400

    @Option(help: "Most Idempotency-Keys remembered; past it the oldest are forgotten early and counted (TALLY_IDEMPOTENCY_MAX_KEYS).")
    var idempotencyMaxKeys = Int(environment("IDEMPOTENCY_MAX_KEYS") ?? "") ?? 1_000_000

    @Option(help: "Seconds a client event id is remembered: a resent event with the same id is acknowledged, not stored again; 0 = off (TALLY_DEDUPE_WINDOW).")
    var dedupeWindow = Double(environment("DEDUPE_WINDOW") ?? "") ?? 0

    @Option(help: "When a batch is acknowledged: local (once the Redis primary has it) or replicated (once a replica has it too, by WAIT; 503 otherwise) (TALLY_DURABILITY).")
    var durability = environment("DURABILITY") ?? "local"

    @Option(help: "Seconds --durability replicated waits for a replica before answering 503 (TALLY_DURABILITY_WAIT).")
    var durabilityWait = Double(environment("DURABILITY_WAIT") ?? "") ?? 0.5

    @Option(help: "Seconds a request may wait on the event log before it is answered 503 (TALLY_APPEND_TIMEOUT).")
    var appendTimeout = Double(environment("APPEND_TIMEOUT") ?? "") ?? 1

    @Option(help: "Sample at ingest under overload: on or off (TALLY_SAMPLING). Everything is kept while the lag stays low.")
    var sampling = environment("SAMPLING") ?? "on"

    @Option(help: "Lag (entries not yet delivered to workers) that counts as full; sampling lowers its probability above 80 % of it, raises it below 30 % (TALLY_SAMPLING_MAX_LAG).")
    var samplingMaxLag = Int(environment("SAMPLING_MAX_LAG") ?? "") ?? 100_000

    @Option(help: "Lowest sampling probability (TALLY_SAMPLING_MIN_PROBABILITY).")
    var samplingMinProbability = Double(environment("SAMPLING_MIN_PROBABILITY") ?? "") ?? 0.01

    @Option(help: "Highest sampling probability (TALLY_SAMPLING_MAX_PROBABILITY).")
    var samplingMaxProbability = Double(environment("SAMPLING_MAX_PROBABILITY") ?? "") ?? 1

    @Option(help: "Seconds between sampling adjustments, which also refresh the queue gauges (TALLY_SAMPLING_INTERVAL).")
    var samplingInterval = Double(environment("SAMPLING_INTERVAL") ?? "") ?? 1

    func validate() throws {
        guard ["on", "off"].contains(self.sampling) else { throw ValidationError("--sampling must be on or off, got \(self.sampling)") }
        guard ["local", "replicated"].contains(self.durability) else {
            throw ValidationError("--durability must be local or replicated, got \(self.durability)")
        }
        // Every other check is the configuration's own (the library's one home for them).
        do {
            try self.makeConfiguration().validate()
        } catch let invalid as InvalidSetting {
            throw ValidationError(invalid.description)
        }
    }

    /// The node's configuration from the options, before Redis is asked whether it runs a cluster.
    func makeConfiguration() throws -> TallyServerConfiguration {
        var configuration = TallyServerConfiguration()
        configuration.host = self.host
        configuration.port = self.port
        try self.redis.apply(to: &configuration)
        configuration.workers = self.workers
        configuration.token = self.token.isEmpty ? nil : self.token
        configuration.maxBodyBytes = self.maxBodyBytes
        configuration.allowEviction = self.allowEviction || environmentFlag("ALLOW_EVICTION")
        configuration.idempotencyWindow = try optionDuration(seconds: self.idempotencyWindow, option: "--idempotency-window")
        configuration.idempotencyMaxKeys = self.idempotencyMaxKeys
        configuration.dedupeWindow = try optionDuration(seconds: self.dedupeWindow, option: "--dedupe-window")
        configuration.appendTimeout = try optionDuration(seconds: self.appendTimeout, option: "--append-timeout")
        if self.durability == "replicated" {
            configuration.durability = .replicated(replicas: 1, timeout: try optionDuration(seconds: self.durabilityWait, option: "--durability-wait"))
        }
        configuration.sampling = self.sampling == "on"
        configuration.samplingMaxLag = self.samplingMaxLag
        configuration.samplingMinProbability = self.samplingMinProbability
        configuration.samplingMaxProbability = self.samplingMaxProbability
        configuration.samplingInterval = try optionDuration(seconds: self.samplingInterval, option: "--sampling-interval")
        configuration.state = self.stateOptions.state
        configuration.score = try self.score.formula()
        configuration.scorePeriod = try self.score.period()
        return configuration
    }

    func run() async throws {
        // validate() has checked this configuration already (ArgumentParser calls it before run()).
        var configuration = try self.makeConfiguration()
        if self.redis.isSet {
            configuration.redisCluster = try await requireRedis(self.redis)
        }
        let registry = MetricsRegistry()
        // Request metrics carry the trace of a request sent with a W3C traceparent as their exemplar.
        MetricsSystem.bootstrap(TallyMetricsFactory(registry: registry, exemplars: TallyMetricsFactory.exemplarsFromTraceContext))
        let components: TallyNodeComponents
        do {
            try TallyBuild.registerProcessMetrics(in: registry)
            components = try TallyNodeComponents(configuration: configuration, registry: registry)
        } catch {
            throw fail("cannot start: \(error)")
        }
        do {
            try await TallyNode(components: components).run()
        } catch let refusal as RedisPreflight.Refusal {
            throw fail("cannot prepare the event log on Redis: \(refusal)")
        }
    }
}
