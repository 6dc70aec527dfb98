import Foundation
import Logging
import Synchronization
import TallyMetrics
import TallyRedis

/// One consumer of the log: reads batches, computes their delta with
/// ``DeltaCalculator`` and commits delta + acknowledgement in one atomic step.
///
/// On start it first re-reads its own pending entries (from id `0`), then new
/// ones (`>`); every ``WorkerConfiguration/claimInterval`` it claims entries
/// idle past ``WorkerConfiguration/claimMinIdle``; every
/// ``WorkerConfiguration/trimInterval`` it trims the log safely. An entry that fails to
/// decode stays pending (it is retried when claimed) until it has been
/// delivered ``WorkerConfiguration/maxDeliveries`` times, then moves to the
/// dead-letter stream in the same commit as the rest of its batch — so one
/// poison entry never holds the others back. Entries claimed away by another
/// consumer are left out and the commit retried: nothing is applied twice.
public struct PipelineWorker: Sendable {
    public let log: any EventLog
    public let consumer: String
    public let configuration: WorkerConfiguration
    public let bucketSeconds: Int
    let metrics: PipelineMetrics?
    let logger: Logger
    let now: @Sendable () -> Double
    let stopRequested: StopSignal

    public init(log: any EventLog, consumer: String, bucketSeconds: Int = StateConfiguration.default.bucketSeconds,
                configuration: WorkerConfiguration = .default, metrics: PipelineMetrics? = nil,
                logger: Logger = Logger(label: "tally.pipeline.worker"), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.init(log: log, consumer: consumer, bucketSeconds: bucketSeconds, configuration: configuration, metrics: metrics,
                  logger: logger, now: now, stopRequested: StopSignal())
    }

    init(log: any EventLog, consumer: String, bucketSeconds: Int, configuration: WorkerConfiguration, metrics: PipelineMetrics?,
         logger: Logger, now: @escaping @Sendable () -> Double, stopRequested: StopSignal) {
        self.log = log
        self.consumer = consumer
        self.bucketSeconds = bucketSeconds
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.now = now
        self.stopRequested = stopRequested
    }

    /// Processes batches until the task is cancelled or the pool asks to stop (after the current batch).
    public func run() async {
        var pendingCursor: String? = "0"
        var prefetched: [LogEntry]? = nil
        var lastClaim: ContinuousClock.Instant? = nil
        var lastTrim = ContinuousClock.now
        while !Task.isCancelled && !stopRequested.isSet {
            do {
                if let interval = configuration.trimInterval, ContinuousClock.now - lastTrim >= interval {
                    lastTrim = .now
                    try await log.trim()
                }
                if lastClaim.map({ ContinuousClock.now - $0 >= configuration.claimInterval }) ?? true {
                    lastClaim = .now
                    let claimed = try await log.claimIdle(consumer: consumer, minIdle: configuration.claimMinIdle, count: configuration.batchSize)
                    metrics?.reclaimed.increment(by: Int64(claimed.entries.count + claimed.deletedAcknowledged))
                    if !claimed.entries.isEmpty {
                        try await process(claimed.entries)
                        if claimed.entries.count >= configuration.batchSize { lastClaim = nil }
                        continue
                    }
                }
                if let cursor = pendingCursor {
                    let entries = try await log.read(consumer: consumer, from: .pending(after: cursor), count: configuration.batchSize, block: nil)
                    pendingCursor = entries.last?.id
                    if !entries.isEmpty { try await process(entries) }
                } else {
                    let entries: [LogEntry]
                    if let ready = prefetched {
                        entries = ready
                        prefetched = nil
                    } else {
                        entries = try await log.read(consumer: consumer, from: .new, count: configuration.batchSize, block: configuration.block)
                    }
                    if entries.count < configuration.batchSize || stopRequested.isSet {
                        if !entries.isEmpty { try await process(entries) }
                        continue
                    }
                    // A full batch: more are probably waiting. Read the next while this one commits, so
                    // that the log works on one while this worker decodes and calculates the other.
                    async let next = log.read(consumer: consumer, from: .new, count: configuration.batchSize, block: nil)
                    do {
                        try await process(entries)
                    } catch {
                        _ = try? await next
                        throw error
                    }
                    prefetched = try await next
                }
            } catch is CancellationError {
                return
            } catch {
                // Whatever was read and not committed stays pending for this consumer: read it again first.
                prefetched = nil
                pendingCursor = "0"
                if Task.isCancelled { return }
                if let redisError = error as? RedisError, redisError.serverErrorCode == "NOGROUP" {
                    // The server lost the group (restarted without persistence, or flushed): create it
                    // again from the start of the stream, so whatever was appended since is processed.
                    logger.warning("worker \(consumer): the consumer group is missing; creating it again")
                    try? await log.prepare()
                    continue
                }
                logger.error("worker \(consumer): \(error); entries stay pending and will be retried")
                try? await Task.sleep(for: configuration.errorBackoff)
            }
        }
    }

    /// Decodes, calculates and commits one batch (see the type's documentation).
    public func process(_ entries: [LogEntry]) async throws {
        let started = ContinuousClock.now
        let readAt = now()
        var good: [(id: String, record: EventRecord)] = []
        var emptyIDs: [String] = []
        var failures: [(id: String, error: String)] = []
        for entry in entries {
            guard let fields = entry.fields else {
                emptyIDs.append(entry.id)  // deleted while pending: nothing to apply, acknowledge it
                continue
            }
            do {
                good.append((entry.id, try EventRecord(entryFields: fields, limits: configuration.limits)))
            } catch {
                failures.append((entry.id, error.description))
            }
        }
        var deadLetters: [DeadLetterRequest] = []
        if !failures.isEmpty {
            let counts = try await log.deliveryCounts(of: failures.map(\.id))
            for failure in failures {
                guard let deliveries = counts[failure.id] else { continue }  // no longer ours to handle
                if deliveries >= configuration.maxDeliveries {
                    deadLetters.append(DeadLetterRequest(id: failure.id, error: failure.error, deliveries: deliveries))
                } else {
                    metrics?.retried.increment()
                    logger.debug("entry \(failure.id) failed (delivery \(deliveries)): \(failure.error)")
                }
            }
        }
        // When each entry was appended, for the queue's wait histogram (no I/O on Redis: the ids say it).
        let appendTimes = metrics == nil ? [:] : ((try? await log.appendTimes(ofEntries: good.map(\.id))) ?? [:])
        // Commit; if another consumer claimed some entries meanwhile, commit again without them.
        for _ in 0..<8 {
            let delta = DeltaCalculator.delta(for: good.map(\.record), bucketSeconds: bucketSeconds)
            let commit = BatchCommit(acknowledged: good.map(\.id) + emptyIDs, delta: delta, deadLetters: deadLetters)
            if commit.isEmpty { break }
            switch try await log.commit(commit, consumer: consumer, now: now()) {
            case .committed:
                for (type, count) in delta.eventsByType {
                    metrics?.processed.labels(type.rawValue).increment(by: Int64(count))
                }
                metrics?.deadLettered.increment(by: Int64(deadLetters.count))
                metrics?.batchDuration.observe(Self.seconds(ContinuousClock.now - started))
                if let queue = metrics?.queue {
                    queue.recordConsumed(commit.acknowledged.count + deadLetters.count)
                    for (id, _) in good {
                        if let appended = appendTimes[id] { queue.recordWait(seconds: readAt - appended) }
                    }
                }
                return
            case .notOwned(let lost):
                let lostIDs = Set(lost)
                metrics?.ownershipLost.increment(by: Int64(lostIDs.count))
                logger.info("worker \(consumer): \(lostIDs.count) entries were claimed by another consumer; committing without them")
                good.removeAll { lostIDs.contains($0.id) }
                emptyIDs.removeAll { lostIDs.contains($0) }
                deadLetters.removeAll { lostIDs.contains($0.id) }
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// A flag a pool sets to ask its workers to stop after their current batch.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }
}
