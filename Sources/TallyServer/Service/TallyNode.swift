import Hummingbird
import Logging
import ServiceLifecycle
import TallyPipeline

/// Runs a node: HTTP server, in-process workers, the productivity-score
/// leader election, the derived-metrics refresher and the load monitor (ingest
/// sampling, queue gauges), under one `ServiceGroup`. SIGTERM/SIGINT stop accepting
/// requests, let in-flight requests and batches finish, then stop workers
/// (which acknowledge what they applied), release the leader lock and close the store.
public struct TallyNode: Sendable {
    public let components: TallyNodeComponents
    let logger: Logger

    public init(components: TallyNodeComponents, logger: Logger = Logger(label: "tally.server")) {
        self.components = components
        self.logger = logger
    }

    public func run() async throws {
        let configuration = self.components.configuration
        try await self.components.log.prepare()
        let router = TallyRouter.build(node: self.components)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tally"),
            logger: self.logger
        )
        let workers = WorkerService(pool: self.components.workers)
        let refresher = RefreshService(exporter: self.components.exporter, interval: configuration.refreshInterval)
        // The lock outlives a silent leader by half a period (at least 15 s), so another node takes over soon after.
        let leaderLockTTL = max(configuration.scorePeriod * 3 / 2, configuration.scorePeriod + .seconds(15))
        let leader = ScoreLeaderService(leader: ScoreLeader(store: self.components.store, period: configuration.scorePeriod,
                                                            lockTTL: leaderLockTTL, formula: configuration.score))
        let loadMonitor = LoadMonitorService(components: self.components)
        // An ingest-only node (no workers) runs no worker service: one that returned at once would stop the group.
        let workerServices: [ServiceGroupConfiguration.ServiceConfiguration] = self.components.isIngestOnly ? [] : [.init(service: workers)]
        let group = ServiceGroup(
            configuration: .init(
                services: workerServices + [
                    .init(service: refresher),
                    .init(service: leader),
                    .init(service: loadMonitor),
                    .init(service: app),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: self.logger
            )
        )
        self.logger.info("tally serve starting", metadata: ["configuration": "\(configuration.loggable)"])
        if self.components.isIngestOnly {
            self.logger.info("ingest-only node: no in-process workers; tally worker processes apply the events")
        }
        if configuration.redisURL == nil {
            self.logger.warning("running on the embedded in-memory log and state: NOT durable, events are lost when the process exits")
        }
        try await group.run()
        await self.components.close()
    }
}
