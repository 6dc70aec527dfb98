import ArgumentParser
import Logging
import ServiceLifecycle
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyServer

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run workers only, against a shared Redis.")

    @Option(help: "Redis URL (TALLY_REDIS).")
    var redis = environment("REDIS") ?? ""

    @Option(help: "Worker tasks in this process (TALLY_CONCURRENCY).")
    var concurrency = Int(environment("CONCURRENCY") ?? "") ?? 2

    @Option(help: "Seconds an entry stays pending before another worker may claim it (TALLY_CLAIM_IDLE).")
    var claimIdle = Double(environment("CLAIM_IDLE") ?? "") ?? 30

    func validate() throws {
        guard self.claimIdle > 0 else { throw ValidationError("--claim-idle must be positive") }
        guard !self.redis.isEmpty else { throw ValidationError("--redis is required for tally worker (or set TALLY_REDIS)") }
        guard self.concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        let logger = Logger(label: "tally.worker")
        try await requireRedis(self.redis)
        let pool = RedisConnectionPool(configuration: RedisPoolConfiguration(
            connection: try RedisConfiguration(url: self.redis),
            maximumConnections: self.concurrency + 2,
            maximumBlockingConnections: self.concurrency + 1
        ))
        let log = RedisEventLog(client: pool)
        do {
            try await log.prepare()
        } catch {
            await pool.close()
            throw fail("cannot prepare the event log on Redis: \(error)")
        }
        let metrics = try PipelineMetrics(registry: MetricsRegistry())
        var configuration = WorkerConfiguration()
        configuration.claimMinIdle = .milliseconds(Int(self.claimIdle * 1000))
        configuration.claimInterval = min(configuration.claimInterval, configuration.claimMinIdle)
        let workers = WorkerPool(log: log, concurrency: self.concurrency, configuration: configuration, metrics: metrics, logger: logger)
        logger.info("tally worker starting", metadata: ["concurrency": "\(self.concurrency)"])
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: WorkerService(pool: workers))], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        await pool.close()
    }
}
