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

    @Option(help: "Worker tasks in this process for each shard (TALLY_CONCURRENCY).")
    var concurrency = Int(environment("CONCURRENCY") ?? "") ?? 2

    @Option(help: "Serve only these shards, as comma-separated indices from 0 (TALLY_WORKER_SHARDS); every shard by default. Every shard must be served by some process.")
    var workerShards = environment("WORKER_SHARDS") ?? ""

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
        guard try optionDuration(seconds: self.claimIdle, option: "--claim-idle") > .zero else { throw ValidationError("--claim-idle must be positive") }
        guard self.maxDeliveries >= 1 else { throw ValidationError("--max-deliveries must be at least 1, got \(self.maxDeliveries)") }
        guard self.redis.isSet else { throw ValidationError("--redis is required for tally worker (or set TALLY_REDIS)") }
        guard self.concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        var configuration = TallyServerConfiguration()
        configuration.shards = self.redis.shards
        configuration.workerShards = try self.servedShards()
        do {
            _ = try configuration.shardLayout()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `--worker-shards` as indices; nil when not given.
    func servedShards() throws -> [Int]? {
        guard !self.workerShards.isEmpty else { return nil }
        let parts = self.workerShards.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let indices = parts.compactMap { Int($0) }
        guard indices.count == parts.count else {
            throw ValidationError("--worker-shards must be comma-separated shard indices, got \(self.workerShards)")
        }
        return indices
    }

    func run() async throws {
        let logger = Logger(label: "tally.worker")
        var configuration = try await self.redis.serverConfiguration()
        configuration.allowEviction = self.allowEviction || environmentFlag("ALLOW_EVICTION")
        configuration.workers = self.concurrency
        configuration.workerShards = try self.servedShards()
        configuration.state = self.stateOptions.state
        configuration.worker.claimMinIdle = try optionDuration(seconds: self.claimIdle, option: "--claim-idle")
        configuration.worker.claimInterval = min(configuration.worker.claimInterval, configuration.worker.claimMinIdle)
        configuration.worker.maxDeliveries = self.maxDeliveries
        let registry = MetricsRegistry()
        // The same parts as tally serve's, built the same way: only the HTTP side is left out.
        let node: PipelineNode
        do {
            try TallyBuild.registerProcessMetrics(in: registry)
            node = try PipelineNode(configuration: configuration, registry: registry, logger: logger)
        } catch {
            throw fail("cannot start: \(error)")
        }
        do {
            try await node.prepare()
        } catch {
            await node.close()
            throw fail("cannot prepare the event log on Redis: \(error)")
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: WorkerService(pool: node.workers))]
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
            "shards": "\(configuration.workerShards.map { $0.map(String.init).joined(separator: ",") + " of \(node.layout.count)" } ?? "all \(node.layout.count)")",
            "max-deliveries": "\(self.maxDeliveries)",
            "metrics": "\(self.metricsPort > 0 ? "http://\(self.metricsHost):\(self.metricsPort)/metrics" : "off")",
        ])
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        await node.close()
    }
}
