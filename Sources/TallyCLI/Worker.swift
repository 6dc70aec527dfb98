import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyServer

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run workers only, against a shared Redis.")

    @OptionGroup var redis: RedisOptions

    @OptionGroup var stateOptions: StateOptions

    @Option(help: "Worker tasks in this process (TALLY_CONCURRENCY).")
    var concurrency = Int(environment("CONCURRENCY") ?? "") ?? 2

    @Option(help: "Seconds an entry stays pending before another worker may claim it (TALLY_CLAIM_IDLE).")
    var claimIdle = Double(environment("CLAIM_IDLE") ?? "") ?? 30

    @Option(help: "Failures after which an entry moves to the dead-letter stream: deliveries of an entry that does not decode, failed commits before a batch is split and of an entry alone (TALLY_MAX_DELIVERIES).")
    var maxDeliveries = Int(environment("MAX_DELIVERIES") ?? "") ?? WorkerConfiguration.default.maxDeliveries


    @Option(help: "Serve this process's /metrics and /health/live on this port; 0 serves nothing (TALLY_METRICS_PORT).")
    var metricsPort = Int(environment("METRICS_PORT") ?? "") ?? 0

    @Option(help: "Address for --metrics-port (TALLY_METRICS_HOST).")
    var metricsHost = environment("METRICS_HOST") ?? "127.0.0.1"

    @Flag(help: "Start even though Redis's maxmemory-policy may evict keys, which makes the metrics silently wrong; refused otherwise (TALLY_ALLOW_EVICTION=1).")
    var allowEviction = false

    func validate() throws {
        guard (0...65_535).contains(self.metricsPort) else { throw ValidationError("--metrics-port must be 0 (off) or a TCP port") }
        guard self.claimIdle > 0 else { throw ValidationError("--claim-idle must be positive") }
        guard self.maxDeliveries >= 1 else { throw ValidationError("--max-deliveries must be at least 1, got \(self.maxDeliveries)") }
        guard self.redis.isSet else { throw ValidationError("--redis is required for tally worker (or set TALLY_REDIS)") }
        guard self.concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        let logger = Logger(label: "tally.worker")
        let cluster = try await requireRedis(self.redis)
        let registry = MetricsRegistry()
        try TallyBuild.registerProcessMetrics(in: registry)
        let pool: any ClosableRedisClient
        if cluster {
            pool = RedisPoolMetrics.instrumentedCluster(.init(seeds: try self.redis.seeds(), maximumConnectionsPerNode: self.concurrency + 2,
                                                              maximumBlockingConnectionsPerNode: self.concurrency + 1,
                                                              leaseTimeout: self.redis.leaseTimeout), registry: registry)
        } else {
            (pool, _) = try RedisPoolMetrics.instrumentedPool(
                RedisPoolConfiguration(
                    connection: try self.redis.connection(),
                    maximumConnections: self.concurrency + 2,
                    maximumBlockingConnections: self.concurrency + 1,
                    leaseTimeout: self.redis.leaseTimeout
                ),
                registry: registry
            )
        }
        let log = RedisEventLog(client: pool, configuration: self.stateOptions.state, allowEviction: self.allowEviction || environmentFlag("ALLOW_EVICTION"))
        do {
            try await log.prepare()
        } catch {
            await pool.close()
            throw fail("cannot prepare the event log on Redis: \(error)")
        }
        let metrics = try PipelineMetrics(registry: registry)
        var configuration = WorkerConfiguration()
        configuration.claimMinIdle = .milliseconds(Int(self.claimIdle * 1000))
        configuration.claimInterval = min(configuration.claimInterval, configuration.claimMinIdle)
        configuration.maxDeliveries = self.maxDeliveries
        let workers = WorkerPool(log: log, committer: log.committer, concurrency: self.concurrency, configuration: configuration, metrics: metrics, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: WorkerService(pool: workers))]
        if self.metricsPort > 0 {
            // The process's own figures (processed, batch duration, workers running, Redis pool) for Prometheus.
            let app = Application(
                router: TallyRouter.buildMetricsOnly(registry: registry),
                configuration: .init(address: .hostname(self.metricsHost, port: self.metricsPort)),
                logger: logger
            )
            services.append(.init(service: app))
        }
        logger.info("tally worker starting", metadata: [
            "concurrency": "\(self.concurrency)",
            "max-deliveries": "\(self.maxDeliveries)",
            "metrics": "\(self.metricsPort > 0 ? "http://\(self.metricsHost):\(self.metricsPort)/metrics" : "off")",
        ])
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        await pool.close()
    }
}
