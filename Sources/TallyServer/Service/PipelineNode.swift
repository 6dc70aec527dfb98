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
    /// How the events and state are split (one shard unless `--shards`).
    public let layout: ShardLayout
    /// The log as ingest and operators see it: each event goes to its session's shard.
    public let log: ShardedEventLog
    /// Each shard's committer, by index: the one way events change that shard's state.
    public let committers: [any BatchCommitter]
    /// The state, merged over the shards.
    public let store: any StateStore
    public let pipelineMetrics: PipelineMetrics
    /// `configuration.workers` workers per shard served (every shard unless `workerShards`; none on
    /// an ingest-only node).
    public let workers: WorkerPool
    /// The workers' own thread, so that batch work never queues ahead of HTTP requests or reads.
    let workerExecutor: DedicatedThreadExecutor
    /// Tally's Redis pool and commands as `db_pool_*` / `db_query_*{pool="redis"}` (a single Redis node only).
    public let redisPoolMetrics: RedisPoolMetrics?
    /// The `tally_redis_*` figures of the node that holds Tally's global keys (Redis only).
    let redisServerMetrics: RedisServerMetrics?
    let redis: (any ClosableRedisClient)?
    let logger: Logger

    /// Builds the parts; throws for a bad Redis URL, shard count or a metric registration conflict.
    /// Nothing talks to Redis before ``prepare()``.
    public init(configuration: TallyServerConfiguration, registry: MetricsRegistry, logger: Logger) throws {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        let layout = try configuration.shardLayout()
        self.layout = layout
        let seeds = try configuration.redisSeeds()
        let backend: ShardedBackend
        if !seeds.isEmpty {
            // Shared connections for commands, plus one dedicated connection per worker for its blocking reads.
            let connections = max(4, configuration.workers + 2), blocking = configuration.workers * layout.count + 1
            let client: any ClosableRedisClient
            if configuration.redisCluster {
                // One pool per primary; each shard's keys share its hash tag, so one primary serves a shard.
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
            backend = .redis(client: client, layout: layout, configuration: configuration.state, appendPolicy: configuration.appendPolicy,
                             durability: configuration.durability, allowEviction: configuration.allowEviction)
        } else {
            backend = .memory(layout: layout, configuration: configuration.state, appendPolicy: configuration.appendPolicy)
            self.redis = nil
            self.redisPoolMetrics = nil
            self.redisServerMetrics = nil
        }
        self.log = backend.log
        self.store = backend.store
        self.committers = backend.committers
        self.pipelineMetrics = try PipelineMetrics(registry: registry)
        self.workerExecutor = DedicatedThreadExecutor(threads: 1)
        self.workers = WorkerPool(shards: backend.workerShards(configuration.workerShards),
                                  concurrency: configuration.workers, bucketSeconds: configuration.state.bucketSeconds,
                                  configuration: configuration.worker, metrics: self.pipelineMetrics, logger: logger, executor: self.workerExecutor)
    }

    /// Checks the server and creates the stream and group (see ``EventLog/prepare()``).
    public func prepare() async throws {
        try await self.log.prepare()
    }

    /// Checks the Redis server as ``prepare()`` does (``RedisPreflight``, and the recorded shard
    /// count), without creating or recording anything: for operator commands. Nothing to check on the memory backend.
    public func checkServer(allowEviction: Bool) async throws {
        guard let redis = self.redis else { return }
        // On a cluster, every node that holds a shard (or the global keys) must qualify.
        for keys in Set([layout.globalKeys] + layout.shardKeys) {
            try await RedisPreflight.check(redis.keyless(onNodeOf: keys.events), allowEviction: allowEviction, logger: self.logger)
        }
        // An operator command with the wrong --shards would read other keys and show nothing.
        try await RedisEventLog(client: redis, keys: layout.globalKeys).checkShardCount(layout.count)
    }

    /// `--workers 0`: the node appends events and serves metrics; other processes apply the events.
    public var isIngestOnly: Bool {
        self.workers.workers.isEmpty
    }

    public var backendName: String {
        self.redis == nil ? "memory" : "redis"
    }

    /// Refreshes the `tally_redis_*` figures from the node that holds Tally's global keys (on a
    /// cluster, that primary); a failed read marks them down.
    func refreshRedisServerMetrics() async {
        if let redis = self.redis, let metrics = self.redisServerMetrics {
            try? await metrics.refresh(from: redis.keyless(onNodeOf: layout.globalKeys.events))
        }
    }

    /// Closes the Redis connections, if any, and stops the workers' thread.
    public func close() async {
        await self.redis?.close()
        await self.workerExecutor.shutdown()
    }
}
