import Foundation
import Logging
import TallyMetrics
import TallyPipeline
import TallyRedis

/// The parts of a `tally serve` node: a ``PipelineNode`` (log, state, registry, workers, Redis
/// client) plus what serving adds: the ingest handler with its sampler and breaker, the derived
/// metrics exporter, the last figures of the log (``LogFiguresMonitor``) and the debug rings.
public final class TallyNodeComponents: Sendable {
    public let pipeline: PipelineNode
    public let configuration: TallyServerConfiguration
    public var log: ShardedEventLog { pipeline.log }
    public var store: any StateStore { pipeline.store }
    public var registry: MetricsRegistry { pipeline.registry }
    public var pipelineMetrics: PipelineMetrics { pipeline.pipelineMetrics }
    public var workers: WorkerPool { pipeline.workers }
    public var redisPoolMetrics: RedisPoolMetrics? { pipeline.redisPoolMetrics }
    public let exporter: DerivedMetricsExporter
    package let ingest: IngestHandler
    /// Turns ingest away at once while the log keeps failing (see ``LogCircuitBreaker``).
    public let breaker: LogCircuitBreaker
    let ingestMetrics: IngestMetrics
    package let rings = DebugRings()
    /// Sheds load at ingest under overload; nil when sampling is off.
    public let sampler: AdaptiveSampler?
    /// The log's figures as last read by the node's one figures loop (``LoadMonitorService``):
    /// the sampler, the queue gauges and `/health` all use this read.
    public let figures = LogFiguresMonitor()
    let logger: Logger

    /// Builds a node; throws for a bad Redis URL or a metric registration conflict.
    public init(
        configuration: TallyServerConfiguration,
        registry: MetricsRegistry = MetricsRegistry(),
        logger: Logger = Logger(label: "tally.server")
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.pipeline = try PipelineNode(configuration: configuration, registry: registry, logger: logger)
        self.sampler = configuration.sampling
            ? AdaptiveSampler(configuration: try configuration.samplerConfiguration(), metrics: self.pipeline.pipelineMetrics.sampler)
            : nil
        // The exporter takes the log's figures from the node's figures loop, not from a read of its own.
        let log = self.pipeline.log, figures = self.figures, figuresMaxAge = Self.figuresMaxAge(configuration)
        self.exporter = try DerivedMetricsExporter(registry: registry, reader: DerivedMetricsReader(store: self.pipeline.store, logFigures: {
            try await figures.current(maxAge: figuresMaxAge, from: log)
        }))
        let ingestMetrics = try IngestMetrics(registry: registry)
        self.ingestMetrics = ingestMetrics
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
            ingestor: EventIngestor(log: log, sampler: self.sampler, deduplicates: configuration.dedupeWindow > .zero, metrics: self.pipeline.pipelineMetrics),
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

    /// How old the figures loop's last read may be before a reader of ``figures`` reads afresh:
    /// three sampling intervals.
    static func figuresMaxAge(_ configuration: TallyServerConfiguration) -> Duration { configuration.samplingInterval * 3 }

    /// `--workers 0`: the node appends events and serves metrics; other processes apply the events.
    public var isIngestOnly: Bool { pipeline.isIngestOnly }

    public var backendName: String { pipeline.backendName }

    /// Health from the log's figures as the node's figures loop last read them (every sampling
    /// interval); read afresh only when that read failed or is older than ``figuresMaxAge(_:)``.
    /// Unreachable means not ready; an ingest-only node's readiness depends on the log alone.
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
            let figures = try await self.figures.current(maxAge: Self.figuresMaxAge(self.configuration), from: self.log)
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
        await self.pipeline.close()
    }
}
