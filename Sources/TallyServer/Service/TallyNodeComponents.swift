import Foundation
import Logging
import TallyMetrics
import TallyPipeline
import TallyRedis

/// The parts of one Tally node, wired together: the log and state (Redis or
/// embedded memory), the registry with the pipeline's and the derived
/// metrics, the workers, the ingest handler with its sampler, the Redis
/// pool's instrumentation and the debug rings.
public final class TallyNodeComponents: Sendable {
    public let configuration: TallyServerConfiguration
    public let log: any EventLog & DeadLetterStore
    /// Applies and acknowledges the workers' batches: the one way events change the state.
    public let committer: any BatchCommitter
    public let store: any StateStore
    public let registry: MetricsRegistry
    public let pipelineMetrics: PipelineMetrics
    public let exporter: DerivedMetricsExporter
    public let workers: WorkerPool
    /// The workers' own thread, so that batch work never queues ahead of HTTP requests.
    let workerExecutor: DedicatedThreadExecutor
    public let ingest: IngestHandler
    /// Turns ingest away at once while the log keeps failing (see ``LogCircuitBreaker``).
    public let breaker: LogCircuitBreaker
    let ingestMetrics: IngestMetrics
    public let rings = DebugRings()
    /// Sheds load at ingest under overload; nil when sampling is off.
    public let sampler: AdaptiveSampler?
    /// Tally's Redis pool and commands as `db_pool_*` / `db_query_*{pool="redis"}` (Redis backend only).
    public let redisPoolMetrics: RedisPoolMetrics?
    let redisServerMetrics: RedisServerMetrics?
    let redis: (any ClosableRedisClient)?
    let logger: Logger

    /// Builds a node; throws for a bad Redis URL or a metric registration conflict.
    public init(
        configuration: TallyServerConfiguration,
        registry: MetricsRegistry = MetricsRegistry(),
        logger: Logger = Logger(label: "tally.server")
    ) throws {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        let seeds = try configuration.redisSeeds()
        if let connection = seeds.first {
            let pool: any ClosableRedisClient
            if configuration.redisCluster {
                // One pool per primary; every Tally key shares the {tally} hash tag, so one primary serves them.
                pool = RedisPoolMetrics.instrumentedCluster(.init(
                    seeds: seeds, maximumConnectionsPerNode: max(4, configuration.workers + 2),
                    maximumBlockingConnectionsPerNode: configuration.workers + 1, leaseTimeout: configuration.redisLeaseTimeout), registry: registry)
                self.redisPoolMetrics = nil
            } else {
                // One dedicated connection per worker for its blocking reads, besides the shared ones.
                let (instrumented, poolMetrics) = try RedisPoolMetrics.instrumentedPool(
                    RedisPoolConfiguration(
                        connection: connection,
                        maximumConnections: max(4, configuration.workers + 2),
                        maximumBlockingConnections: configuration.workers + 1,
                        leaseTimeout: configuration.redisLeaseTimeout
                    ),
                    registry: registry
                )
                pool = instrumented
                self.redisPoolMetrics = poolMetrics
            }
            self.redis = pool
            self.redisServerMetrics = try RedisServerMetrics(registry: registry)
            let log = RedisEventLog(client: pool, configuration: configuration.state, appendPolicy: configuration.appendPolicy, allowEviction: configuration.allowEviction)
            self.log = log
            self.committer = log.committer
            self.store = RedisStateStore(client: pool, configuration: configuration.state)
        } else {
            let store = MemoryStateStore(configuration: configuration.state)
            self.redis = nil
            self.redisPoolMetrics = nil
            self.redisServerMetrics = nil
            self.store = store
            let log = MemoryEventLog(store: store, appendPolicy: configuration.appendPolicy)
            self.log = log
            self.committer = log.committer
        }
        self.pipelineMetrics = try PipelineMetrics(registry: registry)
        self.sampler = configuration.sampling
            ? AdaptiveSampler(configuration: try configuration.samplerConfiguration(), metrics: self.pipelineMetrics.sampler)
            : nil
        self.exporter = try DerivedMetricsExporter(registry: registry, reader: DerivedMetricsReader(store: self.store, log: self.log))
        self.workerExecutor = DedicatedThreadExecutor(threads: 1)
        self.workers = WorkerPool(log: self.log, committer: self.committer, concurrency: configuration.workers, metrics: self.pipelineMetrics, executor: self.workerExecutor)
        let ingestMetrics = try IngestMetrics(registry: registry)
        self.ingestMetrics = ingestMetrics
        let log = self.log
        let breakerLogger = logger
        self.breaker = LogCircuitBreaker(configuration: configuration.breaker, probe: { try await log.checkReachable() }) { open in
            ingestMetrics.breakerOpen.set(open ? 1 : 0)
            if open {
                breakerLogger.error("ingest breaker open: the event log failed repeatedly; answering 503 at once while probing it")
            } else {
                breakerLogger.info("ingest breaker closed: the event log answers again")
            }
        }
        self.ingest = IngestHandler(
            ingestor: EventIngestor(log: self.log, sampler: self.sampler, deduplicates: configuration.dedupeWindow > .zero, metrics: self.pipelineMetrics),
            token: configuration.token.map(BearerToken.init),
            maxBodyBytes: configuration.maxBodyBytes,
            maxDiscardBytes: configuration.maxDiscardBytes,
            discardLinger: configuration.discardLinger,
            retryAfterSeconds: configuration.retryAfterSeconds,
            appendTimeout: configuration.appendTimeout,
            breaker: self.breaker,
            metrics: ingestMetrics,
            rings: self.rings,
            logger: logger
        )
    }

    /// `--workers 0`: the node appends events and serves metrics; other processes apply the events.
    public var isIngestOnly: Bool {
        self.workers.workers.isEmpty
    }

    public var backendName: String {
        self.redis == nil ? "memory" : "redis"
    }

    /// Asks the log for its figures; unreachable means not ready. An ingest-only
    /// node's readiness depends on the log alone.
    public func health() async -> HealthReport {
        let workers: HealthReport.Component = self.isIngestOnly
            ? .init(healthy: true, detail: "none: ingest-only node, tally worker processes apply the events")
            : .init(healthy: true, detail: "\(self.workers.workers.count) in-process workers")
        var report = HealthReport(
            ready: false,
            role: self.isIngestOnly ? .ingestOnly : .ingestAndWorkers,
            backend: self.backendName,
            store: .init(healthy: false, detail: ""),
            workers: workers,
            productivityScoreAgeSeconds: self.exporter.lastMetrics?.productivityScoreAgeSeconds
        )
        do {
            let figures = try await self.log.figures()
            report.store = .init(healthy: true, detail: "reachable")
            report.lag = figures.lag
            report.pending = figures.pending
            report.deadLetters = figures.deadLetters
        } catch {
            report.store = .init(healthy: false, detail: "unreachable: \(error)")
        }
        report.ready = report.store.healthy && report.workers.healthy
        return report
    }

    /// Closes the Redis connections, if any.
    public func close() async {
        await self.redis?.close()
        await self.workerExecutor.shutdown()
    }
}
