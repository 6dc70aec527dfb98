import Foundation
import Logging

/// N ``PipelineWorker``s of one process per shard, each a task with its own consumer name
/// (none for an ingest-only node, whose `run()` returns at once).
///
/// `run()` returns when every worker has stopped: after `stop()` (each
/// finishes its current batch; a blocked read returns within
/// ``WorkerConfiguration/block``) or when the calling task is cancelled.
/// Entries a stopped worker did not commit stay pending for the others.
public final class WorkerPool: Sendable {
    public let workers: [PipelineWorker]
    /// Where the workers run (nil: Swift's shared cooperative pool).
    public let executor: (any TaskExecutor)?
    private let stopRequested = StopSignal()
    private let metrics: PipelineMetrics?

    /// - Parameters:
    ///   - consumerPrefix: consumer names are `<prefix>-<i>`; unique per process (host and pid by default).
    ///   - executor: where the workers run, e.g. a ``DedicatedThreadExecutor`` so that batch work never
    ///     queues ahead of HTTP requests on the shared pool; nil for the shared pool.
    public convenience init(log: any EventLog, committer: any BatchCommitter, concurrency: Int, bucketSeconds: Int = StateConfiguration.default.bucketSeconds,
                            configuration: WorkerConfiguration = .default, metrics: PipelineMetrics? = nil,
                            consumerPrefix: String = WorkerPool.defaultConsumerPrefix(), logger: Logger = Logger(label: "tally.pipeline.worker"),
                            executor: (any TaskExecutor)? = nil) {
        self.init(shards: [Shard(log: log, committer: committer)], concurrency: concurrency, bucketSeconds: bucketSeconds,
                  configuration: configuration, metrics: metrics, consumerPrefix: consumerPrefix, logger: logger, executor: executor)
    }

    /// One shard's log and the committer of its batches.
    public struct Shard: Sendable {
        public var log: any EventLog
        public var committer: any BatchCommitter

        public init(log: any EventLog, committer: any BatchCommitter) {
            self.log = log
            self.committer = committer
        }
    }

    /// `concurrency` workers for each of `shards` (each shard's consumer group has its own
    /// consumers `<prefix>-<i>`): every shard is read, claimed, trimmed and committed on its own.
    public init(shards: [Shard], concurrency: Int, bucketSeconds: Int = StateConfiguration.default.bucketSeconds,
                configuration: WorkerConfiguration = .default, metrics: PipelineMetrics? = nil,
                consumerPrefix: String = WorkerPool.defaultConsumerPrefix(), logger: Logger = Logger(label: "tally.pipeline.worker"),
                executor: (any TaskExecutor)? = nil) {
        let signal = stopRequested
        self.metrics = metrics
        self.executor = executor
        self.workers = shards.enumerated().flatMap { shardIndex, shard in
            var shardLogger = logger
            if shards.count > 1 { shardLogger[metadataKey: "shard"] = "\(shardIndex)" }
            return (0..<max(0, concurrency)).map { index in
                PipelineWorker(log: shard.log, committer: shard.committer, consumer: "\(consumerPrefix)-\(index)", bucketSeconds: bucketSeconds,
                               configuration: configuration, metrics: metrics, logger: shardLogger, stopRequested: signal)
            }
        }
    }

    /// `<host>-<pid>`.
    public static func defaultConsumerPrefix() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Runs every worker until `stop()` or cancellation; `tally_workers_running`
    /// counts the workers whose loop is running.
    public func run() async {
        let running = metrics?.workersRunning
        await withTaskExecutorPreference(executor) {
            await withDiscardingTaskGroup { group in
                for worker in workers {
                    group.addTask {
                        running?.add(1)
                        defer { running?.subtract(1) }
                        await worker.run()
                    }
                }
            }
        }
    }

    /// Asks every worker to stop after its current batch.
    public func stop() {
        stopRequested.set()
    }
}
