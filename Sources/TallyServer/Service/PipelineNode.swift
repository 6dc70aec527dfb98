import Logging
import TallyMetrics
import TallyPipeline
import TallyRedis

/// The parts every Tally process that handles events is built from, wired one way: the Redis
/// client (a pool, or a cluster client when the server runs in cluster mode) with its metrics, or
/// the embedded memory backend; the log, its committer and the state; the registry with the
/// pipeline's metrics; and the worker pool on a thread of its own. `tally serve` builds
/// ``TallyNodeComponents`` on top of it; `tally worker` runs it alone.
public final class PipelineNode: Sendable {
    public let configuration: TallyServerConfiguration
    public let registry: MetricsRegistry
    public let log: any EventLog & DeadLetterStore
    /// Applies and acknowledges the workers' batches: the one way events change the state.
    public let committer: any BatchCommitter
    public let store: any StateStore
    public let pipelineMetrics: PipelineMetrics
    /// `configuration.workers` workers (none on an ingest-only node).
    public let workers: WorkerPool
    /// The workers' own thread, so that batch work never queues ahead of HTTP requests or reads.
    let workerExecutor: DedicatedThreadExecutor
    /// Tally's Redis pool and commands as `db_pool_*` / `db_query_*{pool="redis"}` (a single Redis node only).
    public let redisPoolMetrics: RedisPoolMetrics?
    /// The `tally_redis_*` figures of the node that holds Tally's keys (Redis only).
    let redisServerMetrics: RedisServerMetrics?
    let redis: (any ClosableRedisClient)?
    let logger: Logger

    /// Builds the parts; throws for a bad Redis URL or a metric registration conflict. Nothing
    /// talks to Redis before ``prepare()``.
    public init(configuration: TallyServerConfiguration, registry: MetricsRegistry, logger: Logger) throws {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        let seeds = try configuration.redisSeeds()
        if !seeds.isEmpty {
            // Shared connections for commands, plus one dedicated connection per worker for its blocking reads.
            let connections = max(4, configuration.workers + 2), blocking = configuration.workers + 1
            let client: any ClosableRedisClient
            if configuration.redisCluster {
                // One pool per primary; every Tally key shares the {tally} hash tag, so one primary serves them.
                client = RedisPoolMetrics.instrumentedCluster(.init(
                    seeds: seeds, maximumConnectionsPerNode: connections, maximumBlockingConnectionsPerNode: blocking,
                    leaseTimeout: configuration.redisLeaseTimeout), registry: registry)
                self.redisPoolMetrics = nil
            } else {
                let (pool, metrics) = try RedisPoolMetrics.instrumentedPool(
                    try RedisPoolConfiguration(connection: seeds[0], maximumConnections: connections, maximumBlockingConnections: blocking,
                                               leaseTimeout: configuration.redisLeaseTimeout),
                    registry: registry)
                client = pool
                self.redisPoolMetrics = metrics
            }
            self.redis = client
            self.redisServerMetrics = try RedisServerMetrics(registry: registry)
            let log = RedisEventLog(client: client, configuration: configuration.state, appendPolicy: configuration.appendPolicy,
                                    allowEviction: configuration.allowEviction)
            self.log = log
            self.committer = log.committer
            self.store = RedisStateStore(client: client, configuration: configuration.state)
        } else {
            let store = MemoryStateStore(configuration: configuration.state)
            let log = MemoryEventLog(store: store, appendPolicy: configuration.appendPolicy)
            self.redis = nil
            self.redisPoolMetrics = nil
            self.redisServerMetrics = nil
            self.store = store
            self.log = log
            self.committer = log.committer
        }
        self.pipelineMetrics = try PipelineMetrics(registry: registry)
        self.workerExecutor = DedicatedThreadExecutor(threads: 1)
        self.workers = WorkerPool(log: self.log, committer: self.committer, concurrency: configuration.workers,
                                  bucketSeconds: configuration.state.bucketSeconds, configuration: configuration.worker,
                                  metrics: self.pipelineMetrics, logger: logger, executor: self.workerExecutor)
    }

    /// Checks the server and creates the stream and group (see ``EventLog/prepare()``).
    public func prepare() async throws {
        try await self.log.prepare()
    }

    /// Checks the Redis server as ``prepare()`` does (``RedisPreflight``), without creating or
    /// recording anything: for operator commands. Nothing to check on the memory backend.
    public func checkServer(allowEviction: Bool) async throws {
        guard let redis = self.redis else { return }
        try await RedisPreflight.check(redis.keyless(onNodeOf: RedisKeys().events), allowEviction: allowEviction, logger: self.logger)
    }

    /// `--workers 0`: the node appends events and serves metrics; other processes apply the events.
    public var isIngestOnly: Bool {
        self.workers.workers.isEmpty
    }

    public var backendName: String {
        self.redis == nil ? "memory" : "redis"
    }

    /// Refreshes the `tally_redis_*` figures from the node that holds Tally's keys (on a cluster,
    /// that primary); a failed read marks them down.
    func refreshRedisServerMetrics() async {
        if let redis = self.redis, let metrics = self.redisServerMetrics {
            try? await metrics.refresh(from: redis.keyless(onNodeOf: RedisKeys().events))
        }
    }

    /// Closes the Redis connections, if any, and stops the workers' thread.
    public func close() async {
        await self.redis?.close()
        await self.workerExecutor.shutdown()
    }
}
