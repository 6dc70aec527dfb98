import Foundation
import Logging
import Synchronization
import TallyCore
import TallyMetrics
import TallyRedis

/// One consumer of the log: reads batches, computes their delta with
/// ``DeltaCalculator`` and commits delta + acknowledgement in one atomic step.
///
/// On start it first re-reads its own pending entries (from id `0`), then new
/// ones (`>`); every ``WorkerConfiguration/claimInterval`` it claims entries
/// idle past ``WorkerConfiguration/claimMinIdle``; every
/// ``WorkerConfiguration/trimInterval`` it trims the log safely. After a full
/// batch it reads and decodes the next one while the current one commits.
/// New entries come with the log's fence (``LogRead``), which only their first
/// commit carries; every later commit of the same entries (a retry, a split)
/// goes without it, so the log checks ownership entry by entry then.
///
/// An entry that fails to decode stays pending (it is retried when claimed)
/// until it has been delivered ``WorkerConfiguration/maxDeliveries`` times,
/// then moves to the dead-letter stream in the same commit as the rest of its
/// batch — so one poison entry never holds the others back.
///
/// A commit that fails is retried with exponential backoff
/// (``WorkerConfiguration/errorBackoff`` doubling up to
/// ``WorkerConfiguration/maxErrorBackoff``), never in a tight loop, and
/// counted in `tally_commit_failures_total{kind}`. A systemic failure (the
/// server, the connection, the stored state: see ``CommitErrorClass``) is
/// waited out: nothing is dead-lettered and the entries are applied once the
/// fault is repaired. Any other failure, after `maxDeliveries` failed commits,
/// splits the batch in halves, recursively, until the failing entries are
/// alone; each is dead-lettered with the commit error after `maxDeliveries`
/// failed commits of its own, and the rest is applied exactly once. If every
/// entry of the batch fails alone, the failure is systemic after all.
/// Every dead letter is logged once, at warning level. Entries claimed away by
/// another consumer are left out and the commit retried: nothing is applied twice.
///
/// The worker's own clock decides nothing: the log's clock (Redis's `TIME`)
/// decides which buckets are still in the window and which sessions are quiet,
/// and measures how long entries waited.
public struct PipelineWorker: Sendable {
    public let log: any EventLog
    /// Applies and acknowledges the batches (the log's entries) in one atomic step.
    public let committer: any BatchCommitter
    public let consumer: String
    public let configuration: WorkerConfiguration
    public let bucketSeconds: Int
    let metrics: PipelineMetrics?
    let logger: Logger
    let stopRequested: StopSignal

    public init(log: any EventLog, committer: any BatchCommitter, consumer: String, bucketSeconds: Int = StateConfiguration.default.bucketSeconds,
                configuration: WorkerConfiguration = .default, metrics: PipelineMetrics? = nil,
                logger: Logger = Logger(label: "tally.pipeline.worker")) {
        self.init(log: log, committer: committer, consumer: consumer, bucketSeconds: bucketSeconds, configuration: configuration, metrics: metrics,
                  logger: logger, stopRequested: StopSignal())
    }

    init(log: any EventLog, committer: any BatchCommitter, consumer: String, bucketSeconds: Int, configuration: WorkerConfiguration, metrics: PipelineMetrics?,
         logger: Logger, stopRequested: StopSignal) {
        self.log = log
        self.committer = committer
        self.consumer = consumer
        self.bucketSeconds = bucketSeconds
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.stopRequested = stopRequested
    }

    /// Processes batches until the task is cancelled or the pool asks to stop (after the current batch).
    public func run() async {
        var pendingCursor: String? = "0"
        var prepared: PreparedBatch? = nil  // the next batch, read and prepared while the last one committed
        var lastClaim: ContinuousClock.Instant? = nil
        var lastTrim = ContinuousClock.now
        var consecutiveErrors = 0
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
                        consecutiveErrors = 0
                        if claimed.entries.count >= configuration.batchSize { lastClaim = nil }
                        continue
                    }
                }
                if let cursor = pendingCursor {
                    let entries = try await log.read(consumer: consumer, from: .pending(after: cursor), count: configuration.batchSize, block: nil)
                    pendingCursor = entries.last?.id
                    if !entries.isEmpty { try await process(entries) }
                    consecutiveErrors = 0
                } else {
                    let batch: PreparedBatch
                    if let ready = prepared {
                        batch = ready
                        prepared = nil
                    } else {
                        let read = try await log.readNew(consumer: consumer, count: configuration.batchSize, block: configuration.block)
                        if read.entries.isEmpty {
                            consecutiveErrors = 0
                            continue
                        }
                        batch = try await prepare(read.entries, fence: read.fence)
                    }
                    if batch.entryCount < configuration.batchSize || stopRequested.isSet {
                        try await commit(batch)
                        consecutiveErrors = 0
                        continue
                    }
                    // A full batch: more are probably waiting. Read and prepare the next while this one
                    // commits, so that the log applies one while this worker decodes and calculates the other.
                    async let next = readAndPrepareNext()
                    do {
                        try await commit(batch)
                    } catch {
                        _ = try? await next
                        throw error
                    }
                    prepared = try await next
                    consecutiveErrors = 0
                }
            } catch is CancellationError {
                return
            } catch {
                // Whatever was read and not committed stays pending for this consumer: read it again first.
                prepared = nil
                pendingCursor = "0"
                if Task.isCancelled { return }
                if let redisError = error as? RedisError, redisError.serverErrorCode == "NOGROUP" {
                    // The server lost the group (restarted without persistence, or flushed): create it
                    // again from the start of the stream, so whatever was appended since is processed.
                    logger.warning("worker \(consumer): the consumer group is missing; creating it again")
                    try? await log.prepare()
                    continue
                }
                consecutiveErrors += 1
                let delay = configuration.backoff(afterFailures: consecutiveErrors, jitter: Double.random(in: 0.5...1))
                logger.error("worker \(consumer): \(error); entries stay pending and will be retried in \(delay)")
                if !(await pause(for: delay)) { return }
            }
        }
    }

    /// Decodes, calculates and commits one batch (see the type's documentation). Returns early,
    /// leaving what it did not commit pending, when the pool asks the workers to stop. `fence`: the
    /// ``LogRead/fence`` of the read that delivered `entries` as new entries (nil for claimed or
    /// re-read ones); only the batch's first commit carries it.
    package func process(_ entries: [LogEntry], fence: String? = nil) async throws {
        try await commit(try await prepare(entries, fence: fence))
    }

    /// A batch decoded and ready to commit.
    struct PreparedBatch: Sendable {
        let items: [BatchItem]
        /// The delta of every record among `items`.
        let delta: StateDelta
        let context: CommitContext
        /// The entries read (decoded, dead-lettered, or left pending for a later delivery).
        let entryCount: Int
        /// How long decoding and calculating took (the batch duration without waiting its turn).
        let preparation: Duration
    }

    /// New entries read and prepared (nil when none were waiting).
    func readAndPrepareNext() async throws -> PreparedBatch? {
        let read = try await log.readNew(consumer: consumer, count: configuration.batchSize, block: nil)
        return read.entries.isEmpty ? nil : try await prepare(read.entries, fence: read.fence)
    }

    /// Commits a prepared batch and records how long it took.
    func commit(_ batch: PreparedBatch) async throws {
        let started = ContinuousClock.now
        if try await commit(batch.items, batch.context, delta: batch.delta) {
            metrics?.batchDuration.observe((batch.preparation + (ContinuousClock.now - started)).secondsValue)
        }
    }

    /// Decodes a batch: its events, the entries to dead-letter, and how long each entry waited.
    func prepare(_ entries: [LogEntry], fence: String?) async throws -> PreparedBatch {
        let started = ContinuousClock.now
        var items: [BatchItem] = []
        var failures: [(id: String, error: String)] = []
        for entry in entries {
            guard let fields = entry.fields else {
                items.append(.deleted(entry.id))  // deleted while pending: nothing to apply, acknowledge it
                continue
            }
            do {
                items.append(.record(entry.id, try EventRecord(entryFields: fields, limits: configuration.limits)))
            } catch {
                failures.append((entry.id, error.description))
            }
        }
        if !failures.isEmpty {
            let counts = try await log.deliveryCounts(of: failures.map(\.id))
            for failure in failures {
                guard let deliveries = counts[failure.id] else { continue }  // no longer ours to handle
                if deliveries >= configuration.maxDeliveries {
                    items.append(.deadLetter(DeadLetterRequest(id: failure.id, error: failure.error, deliveries: deliveries)))
                } else {
                    metrics?.retried.increment()
                    logger.debug("entry \(failure.id) failed (delivery \(deliveries)): \(failure.error)")
                }
            }
        }
        // How long each entry waited, on the log's clock, for the queue's wait histogram.
        let waited = metrics == nil ? [:] : ((try? await log.appendAges(ofEntries: items.compactMap { $0.record?.id })) ?? [:])
        let context = CommitContext(waited: waited, fence: fence)
        let delta = DeltaCalculator.delta(for: items.compactMap { $0.record?.record }, bucketSeconds: bucketSeconds)
        return PreparedBatch(items: items, delta: delta, context: context, entryCount: entries.count, preparation: ContinuousClock.now - started)
    }

    // MARK: - Committing

    /// One entry of a batch as the commit sees it.
    enum BatchItem: Sendable {
        /// A decoded event: applied and acknowledged.
        case record(String, EventRecord)
        /// An entry deleted from the log while pending: acknowledged.
        case deleted(String)
        /// An entry to move to the dead-letter stream (and acknowledge).
        case deadLetter(DeadLetterRequest)

        var id: String {
            switch self {
            case .record(let id, _), .deleted(let id): id
            case .deadLetter(let letter): letter.id
            }
        }

        var record: (id: String, record: EventRecord)? {
            if case .record(let id, let record) = self { return (id, record) }
            return nil
        }
    }

    struct CommitContext: Sendable {
        /// Seconds each entry waited in the log before it was read (the log's clock).
        let waited: [String: Double]
        /// The fence of the read that delivered the batch, for its first commit only.
        let fence: String?
    }

    /// The outcome of one commit of some items (entries claimed away meanwhile are left out and the
    /// commit repeated without them).
    enum Attempt {
        /// Committed; how many items (0 when every item had been claimed away).
        case committed(Int)
        /// The commit failed and changed nothing; `remaining` are the items still ours.
        case failed(any Error, remaining: [BatchItem])
    }

    /// Commits `batch`: retries, isolates poison entries and waits out systemic failures. Returns
    /// false when the pool asked to stop first (whatever is not committed stays pending). `delta`:
    /// the batch's, when already calculated.
    func commit(_ batch: [BatchItem], _ context: CommitContext, delta: StateDelta? = nil) async throws -> Bool {
        var items = batch
        var failedCommits = 0  // consecutive failed commits of `items`
        var untraced = 0  // failed commits not counted yet: poison if they lead to a dead letter, else systemic
        var sharedByEveryEntry = false  // isolation found that every entry fails alone
        defer { count(untraced, .systemic) }
        var fence = context.fence  // the first commit's only: any later one may follow another commit of these entries
        var delta = delta
        while !items.isEmpty {
            if stopRequested.isSet { return false }
            let attempt = try await commitOnce(items, context, fence: fence, delta: delta)
            fence = nil
            delta = nil
            guard case .failed(let error, let remaining) = attempt else { return true }
            items = remaining
            failedCommits += 1
            let errorClass = CommitErrorClass(error)
            if let redisError = error as? RedisError, redisError.serverErrorCode == "NOGROUP" {
                untraced += 1
                throw error  // the run loop creates the group again
            }
            if errorClass == .systemic || (sharedByEveryEntry && errorClass == .unknown) {
                count(untraced + 1, .systemic)
                untraced = 0
                let delay = backoff(failedCommits)
                logger.error("worker \(consumer): commit of \(items.count) entries failed (systemic, \(failedCommits) in a row): \(error); nothing is dead-lettered, retrying in \(delay)")
                if !(await pause(for: delay)) { return false }
                continue
            }
            untraced += 1
            if failedCommits < configuration.maxDeliveries {
                let delay = backoff(failedCommits)
                logger.warning("worker \(consumer): commit of \(items.count) entries failed (\(failedCommits) of \(configuration.maxDeliveries) before the batch is split): \(error); retrying in \(delay)")
                if !(await pause(for: delay)) { return false }
                continue
            }
            if items.count > 1 {
                logger.warning("worker \(consumer): commit of \(items.count) entries failed \(failedCommits) times: \(error); splitting the batch to find the entries at fault")
            }
            // An entry alone in its batch has had its failed commits: it is poison (nothing to compare with).
            let isolation = items.count == 1
                ? Isolation(verdict: .poison([(items[0], error)]), failedCommits: 0)
                : try await isolate(items, context)
            untraced += isolation.failedCommits
            switch isolation.verdict {
            case .stopped:
                return false
            case .systemic(let cause, let waiting, let everyEntry):
                count(untraced, .systemic)
                untraced = 0
                items = waiting
                sharedByEveryEntry = sharedByEveryEntry || everyEntry
                failedCommits = max(failedCommits, 1)
                let delay = backoff(failedCommits)
                logger.error("worker \(consumer): \(everyEntry ? "every entry of the batch fails alone" : "commit failed") (systemic): \(cause); \(items.count) entries wait, nothing is dead-lettered, retrying in \(delay)")
                if !(await pause(for: delay)) { return false }
            case .poison(let poison):
                count(untraced, .poison)
                untraced = 0
                items = try await deadLetters(for: poison)
                failedCommits = 0
                sharedByEveryEntry = false
            }
        }
        return true
    }

    struct Isolation {
        enum Verdict {
            /// These entries fail alone (with these errors) while the rest of the batch committed.
            case poison([(item: BatchItem, error: any Error)])
            /// A systemic failure, or every entry failed alone: these items wait.
            case systemic(any Error, waiting: [BatchItem], everyEntry: Bool)
            /// The pool asked to stop.
            case stopped
        }

        var verdict: Verdict
        var failedCommits: Int
    }

    /// Splits `items` in halves, recursively, committing each part, until the entries that fail are
    /// alone; an entry alone gets `maxDeliveries` failed commits before it counts as poison.
    func isolate(_ items: [BatchItem], _ context: CommitContext) async throws -> Isolation {
        var parts: [[BatchItem]] = Self.halves(items).reversed()
        var poison: [(item: BatchItem, error: any Error)] = []
        var failedCommits = 0
        var committedAny = false
        var lastError: (any Error)? = nil
        while var part = parts.popLast() {
            var failedAlone = 0
            while !part.isEmpty {
                if stopRequested.isSet { return Isolation(verdict: .stopped, failedCommits: failedCommits) }
                let attempt = try await commitOnce(part, context)
                guard case .failed(let error, let remaining) = attempt else {
                    if case .committed(let n) = attempt, n > 0 { committedAny = true }
                    break
                }
                failedCommits += 1
                lastError = error
                let errorClass = CommitErrorClass(error)
                if errorClass == .systemic || (error as? RedisError)?.serverErrorCode == "NOGROUP" {
                    let waiting = remaining + parts.reversed().flatMap { $0 } + poison.map(\.item)
                    return Isolation(verdict: .systemic(error, waiting: waiting, everyEntry: false), failedCommits: failedCommits)
                }
                if remaining.count > 1 {
                    parts.append(contentsOf: Self.halves(remaining).reversed())
                    break
                }
                part = remaining
                guard let single = remaining.first else { break }
                failedAlone += 1
                if failedAlone >= configuration.maxDeliveries {
                    poison.append((single, error))
                    break
                }
                if !(await pause(for: backoff(failedAlone))) { return Isolation(verdict: .stopped, failedCommits: failedCommits) }
            }
        }
        // Every entry failed alone and nothing committed: the failure is shared by every part of the
        // batch, not carried by one entry (unless the apply step named each entry's own numbers).
        if !committedAny, poison.count > 1, poison.contains(where: { CommitErrorClass($0.error) != .input }), let lastError {
            return Isolation(verdict: .systemic(lastError, waiting: poison.map(\.item), everyEntry: true), failedCommits: failedCommits)
        }
        return Isolation(verdict: .poison(poison), failedCommits: failedCommits)
    }

    static func halves(_ items: [BatchItem]) -> [[BatchItem]] {
        let middle = items.count / 2
        return [Array(items[..<middle]), Array(items[middle...])].filter { !$0.isEmpty }
    }

    /// The poison entries as dead letters, with the commit error and their delivery count. An entry
    /// that failed alone while being acknowledged or dead-lettered already stays pending.
    func deadLetters(for poison: [(item: BatchItem, error: any Error)]) async throws -> [BatchItem] {
        var records: [(id: String, error: any Error)] = []
        for (item, error) in poison {
            if let record = item.record {
                records.append((record.id, error))
            } else {
                logger.error("worker \(consumer): entry \(item.id) cannot be acknowledged or dead-lettered even alone: \(error); it stays pending")
            }
        }
        guard !records.isEmpty else { return [] }
        let counts = try await log.deliveryCounts(of: records.map(\.id))
        return records.compactMap { record in
            counts[record.id].map { .deadLetter(DeadLetterRequest(id: record.id, error: "\(record.error)", deliveries: $0)) }
        }
    }

    /// Commits `batch` once, leaving out entries another consumer claimed meanwhile; records what
    /// was processed and logs every dead letter once. `fence` goes with the first try only, and so
    /// does `delta` (the delta of `batch`, when already calculated).
    func commitOnce(_ batch: [BatchItem], _ context: CommitContext, fence: String? = nil, delta calculated: StateDelta? = nil) async throws -> Attempt {
        var items = batch
        var fence = fence
        var calculated = calculated
        for _ in 0..<8 {
            var acknowledged: [String] = []
            var records: [EventRecord] = []
            var letters: [DeadLetterRequest] = []
            for item in items {
                switch item {
                case .record(let id, let record):
                    acknowledged.append(id)
                    records.append(record)
                case .deleted(let id):
                    acknowledged.append(id)
                case .deadLetter(let letter):
                    letters.append(letter)
                }
            }
            let delta = calculated ?? DeltaCalculator.delta(for: records, bucketSeconds: bucketSeconds)
            calculated = nil
            let commit = BatchCommit(acknowledged: acknowledged, delta: delta, deadLetters: letters, fence: fence)
            fence = nil
            if commit.isEmpty { return .committed(0) }
            let outcome: CommitOutcome
            do {
                outcome = try await committer.commit(commit, consumer: consumer)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                return .failed(error, remaining: items)
            }
            switch outcome {
            case .committed:
                for (type, count) in delta.eventsByType {
                    metrics?.processed.labels(type.rawValue).increment(by: Int64(count))
                }
                metrics?.deadLettered.increment(by: Int64(letters.count))
                for letter in letters {
                    logger.warning("entry \(letter.id) moved to the dead-letter stream after \(letter.deliveries) deliveries: \(letter.error)",
                                   metadata: ["entry": "\(letter.id)", "consumer": "\(consumer)"])
                }
                if let queue = metrics?.queue {
                    queue.recordConsumed(items.count)
                    for item in items {
                        if let id = item.record?.id, let waited = context.waited[id] { queue.recordWait(seconds: waited) }
                    }
                }
                return .committed(items.count)
            case .notOwned(let lost):
                let lostIDs = Set(lost)
                metrics?.ownershipLost.increment(by: Int64(lostIDs.count))
                logger.info("worker \(consumer): \(lostIDs.count) entries were claimed by another consumer; committing without them")
                items.removeAll { lostIDs.contains($0.id) }
            }
        }
        return .committed(0)
    }

    func count(_ failures: Int, _ kind: CommitFailureKind) {
        if failures > 0 { metrics?.commitFailureCounter(kind).increment(by: Int64(failures)) }
    }

    func backoff(_ failures: Int) -> Duration {
        configuration.backoff(afterFailures: failures, jitter: Double.random(in: 0.5...1))
    }

    /// Sleeps for `delay`, waking early when the pool asks to stop or the task is cancelled (and
    /// returning false then).
    func pause(for delay: Duration) async -> Bool {
        let until = ContinuousClock.now + delay
        while ContinuousClock.now < until {
            if stopRequested.isSet || Task.isCancelled { return false }
            try? await Task.sleep(for: min(.milliseconds(50), until - ContinuousClock.now))
        }
        return !stopRequested.isSet && !Task.isCancelled
    }
}

/// A flag a pool sets to ask its workers to stop after their current batch.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }
}
