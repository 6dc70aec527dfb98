import Foundation
import TallyPipeline
import TallyRedis

/// Everything `tally serve` can be told; every field has a default a demanding
/// user would pick for a single node on loopback.
public struct TallyServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// `redis://…`, `rediss://…` (TLS) or `unix://…`, or several comma-separated seed URLs of a Redis
    /// Cluster; nil runs on the embedded in-memory log and state (not durable).
    public var redisURL: String?
    /// Whether `redisURL` names a Redis Cluster (the CLI asks the server: `INFO cluster`).
    public var redisCluster = false
    /// TLS options for a `rediss://` URL (CA, client certificate, server name); nil uses the defaults.
    public var redisTLS: RedisTLSConfiguration?
    /// How long a caller may wait for a Redis connection before it fails (the pool's lease deadline).
    public var redisLeaseTimeout: Duration = .milliseconds(500)
    /// Start on a Redis whose `maxmemory-policy` may evict keys (with a warning) instead of refusing it.
    public var allowEviction = false
    /// Shards of the log and state (``ShardLayout``); every node of a deployment uses the same count,
    /// recorded in Redis by the first to start.
    public var shards = 1
    /// The shards this process's workers serve (by index); nil serves every shard.
    public var workerShards: [Int]?
    /// When ingest may acknowledge a batch: once the primary has it, or once a replica has it too.
    public var durability: AppendDurability = .local
    /// In-process worker tasks for each shard.
    public var workers = 2
    /// How the workers claim, retry and dead-letter entries.
    public var worker = WorkerConfiguration()
    /// When set, `POST /v1/events` needs `Authorization: Bearer <token>`.
    public var token: String?
    /// The largest request body accepted, in bytes; enforced while the body streams in.
    public var maxBodyBytes = 1 << 20
    /// After a 413, how much more of the body is read and discarded so that the
    /// client, still sending, reads the status instead of a connection reset.
    /// Past it the connection is closed gracefully (see `discardLinger`).
    public var maxDiscardBytes = 64 << 20
    /// How long a connection refused past `maxDiscardBytes` is still read (and
    /// discarded) after the server's FIN, before it is closed outright.
    public var discardLinger: Duration = .seconds(2)
    /// How long an `Idempotency-Key` is remembered (in the log, shared by every node).
    public var idempotencyWindow: Duration = .seconds(86_400)
    /// Bound on remembered idempotency keys; past it the oldest are forgotten early (and counted).
    public var idempotencyMaxKeys = 1_000_000
    /// How long a client event id is remembered for dedupe; zero turns dedupe off.
    public var dedupeWindow: Duration = .zero
    /// How long a request may wait on the log before it is answered 503 (outcome unknown).
    public var appendTimeout: Duration = .seconds(1)
    /// When ingest stops waiting on a log that keeps failing, and how many appends may wait at once.
    public var breaker = LogCircuitBreaker.Configuration()
    /// `Retry-After` sent with a 503 when the log is unreachable.
    public var retryAfterSeconds = 1
    /// How often the derived metrics are read back from the store; `/metrics`
    /// shows the last read (`/v1/metrics` always reads afresh).
    public var refreshInterval: Duration = .seconds(1)
    /// Whether ingest may sample under overload (it keeps everything while the lag stays low).
    public var sampling = true
    /// The lag (entries not yet delivered to the workers) that counts as a full
    /// log: the sampler's pressure is lag / this; it lowers the probability above
    /// 80 % of it and raises it again below 30 %.
    public var samplingMaxLag = 100_000
    /// The sampling probability's floor and ceiling.
    public var samplingMinProbability = 0.01
    public var samplingMaxProbability = 1.0
    /// How often the lag is read and the probability adjusted (also the queue gauges' refresh).
    public var samplingInterval: Duration = .seconds(1)
    /// The window, buckets and caps of the shared state; every node of a deployment must use the same.
    public var state = StateConfiguration()
    /// The productivity score's weights and latency target.
    public var score = ScoreFormula()
    /// How often the score leader recomputes the score.
    public var scorePeriod: Duration = .seconds(30)

    public init() {}

    /// Throws, naming the `tally serve` option, for any setting that cannot work: the one home of
    /// these checks (the CLI calls it, and so may any program that builds a node).
    public func validate() throws(InvalidSetting) {
        guard (1...65535).contains(port) else { throw InvalidSetting("--port must be 1…65535, got \(port)") }
        guard workers >= 0 else { throw InvalidSetting("--workers must be 0 (ingest only) or more, got \(workers)") }
        guard workers > 0 || redisURL != nil else {
            throw InvalidSetting("--workers 0 runs an ingest-only node and needs --redis: on the embedded log nothing would ever process its events")
        }
        try validateRedis()
        guard maxBodyBytes >= 1024 else { throw InvalidSetting("--max-body-bytes must be at least 1024, got \(maxBodyBytes)") }
        guard idempotencyWindow >= .seconds(1), idempotencyWindow <= .seconds(30 * 86_400) else {
            throw InvalidSetting("--idempotency-window must be 1…2592000 seconds (30 days), got \(idempotencyWindow)")
        }
        guard idempotencyMaxKeys >= 1 else { throw InvalidSetting("--idempotency-max-keys must be at least 1, got \(idempotencyMaxKeys)") }
        guard dedupeWindow == .zero || (dedupeWindow >= .seconds(1) && dedupeWindow <= .seconds(86_400)) else {
            throw InvalidSetting("--dedupe-window must be 0 (off) or 1…86400 seconds, got \(dedupeWindow)")
        }
        guard appendTimeout >= .milliseconds(50), appendTimeout <= .seconds(60) else {
            throw InvalidSetting("--append-timeout must be 0.05…60 seconds, got \(appendTimeout)")
        }
        guard samplingMaxLag >= 1 else { throw InvalidSetting("--sampling-max-lag must be at least 1, got \(samplingMaxLag)") }
        guard samplingMinProbability >= 1e-6, samplingMinProbability <= samplingMaxProbability, samplingMaxProbability <= 1 else {
            throw InvalidSetting("sampling probabilities must satisfy 0.000001 ≤ --sampling-min-probability ≤ --sampling-max-probability ≤ 1, got \(samplingMinProbability) and \(samplingMaxProbability)")
        }
        guard samplingInterval >= .milliseconds(10), samplingInterval <= .seconds(3600) else {
            throw InvalidSetting("--sampling-interval must be 0.01…3600 seconds, got \(samplingInterval)")
        }
        try validateState()
    }

    /// Throws for a Redis setting that cannot work (part of ``validate()``; every command that talks
    /// to Redis checks it).
    public func validateRedis() throws(InvalidSetting) {
        guard redisLeaseTimeout >= .milliseconds(10), redisLeaseTimeout <= .seconds(60) else {
            throw InvalidSetting("--redis-lease-timeout must be 0.01…60 seconds, got \(redisLeaseTimeout)")
        }
        _ = try shardLayout()
        if case .replicated(let replicas, let timeout) = durability {
            guard redisURL != nil else {
                throw InvalidSetting("--durability replicated needs --redis: the embedded log has no replica")
            }
            guard replicas >= 1, timeout >= .milliseconds(1), timeout <= .seconds(60) else {
                throw InvalidSetting("--durability replicated needs at least 1 replica and a wait of 0.001…60 seconds, got \(replicas) and \(timeout)")
            }
        }
    }

    /// The shard layout of ``shards``; throws for a count out of range, or a ``workerShards`` list
    /// that is empty, repeats a shard or names one that does not exist.
    public func shardLayout() throws(InvalidSetting) -> ShardLayout {
        let layout = try ShardLayout(count: shards)
        if let workerShards {
            guard !workerShards.isEmpty, Set(workerShards).count == workerShards.count, workerShards.allSatisfy({ (0..<shards).contains($0) }) else {
                throw InvalidSetting("--worker-shards must list distinct shards from 0 to \(shards - 1), got \(workerShards.map(String.init).joined(separator: ","))")
            }
        }
        return layout
    }

    /// Throws for a window or score setting that cannot work (part of ``validate()``; `tally worker`
    /// checks these alone).
    public func validateState() throws(InvalidSetting) {
        try state.validate()
        try score.validate()
        guard scorePeriod >= .seconds(1), scorePeriod <= .seconds(3600) else {
            throw InvalidSetting("--score-period must be 1…3600 seconds, got \(scorePeriod)")
        }
    }

    /// The log's idempotency and dedupe windows.
    public var appendPolicy: AppendPolicy {
        AppendPolicy(idempotencyWindow: self.idempotencyWindow, maxIdempotencyKeys: self.idempotencyMaxKeys, dedupeWindow: self.dedupeWindow)
    }

    /// How to connect to each Redis URL given (empty without one).
    public func redisSeeds() throws -> [RedisConfiguration] {
        try (redisURL ?? "").split(separator: ",").map { try RedisConfiguration(url: $0.trimmingCharacters(in: .whitespaces), tls: redisTLS) }
    }

    /// The ingest sampler's configuration; throws for values that cannot work.
    public func samplerConfiguration() throws -> SamplerConfiguration {
        try SamplerConfiguration(minimumProbability: self.samplingMinProbability, maximumProbability: self.samplingMaxProbability,
                                 interval: self.samplingInterval)
    }

    /// The configuration for a start-up log line, secrets masked.
    public var loggable: String {
        var redis = "embedded in-memory (not durable)"
        if let redisURL {
            redis = redisURL.split(separator: ",").map { RedisConfiguration.redacted(String($0)) }.joined(separator: ",")
                + (self.redisCluster ? " (cluster)" : "") + (self.redisTLS.map { " (TLS CA \($0.caFile ?? "system roots"), client certificate \($0.certificateFile == nil ? "none" : "yes"))" } ?? "")
                + (self.allowEviction ? " (eviction allowed)" : "")
        }
        return "host=\(self.host) port=\(self.port) redis=\(redis) workers=\(self.workers == 0 ? "0 (ingest only)" : String(self.workers)) shards=\(self.shards) durability=\(self.durability) idempotency_window=\(self.idempotencyWindow) dedupe_window=\(self.dedupeWindow == .zero ? "off" : "\(self.dedupeWindow)") token=\(self.token == nil ? "none" : "***") max_body_bytes=\(self.maxBodyBytes) window=\(self.state.windowSeconds)s score_weights=acceptance=\(self.score.acceptanceWeight),tools=\(self.score.toolSuccessWeight),latency=\(self.score.latencyWeight) score_latency_target=\(self.score.latencyTargetSeconds)s score_period=\(self.scorePeriod) sampling=\(self.sampling ? "on max_lag=\(self.samplingMaxLag) probability=\(self.samplingMinProbability)...\(self.samplingMaxProbability) interval=\(self.samplingInterval)" : "off")"
    }
}
