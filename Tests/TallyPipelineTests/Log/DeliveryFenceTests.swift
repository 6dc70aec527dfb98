import Foundation
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

/// The first commit of a read's batch carries the read's fence (`LogRead`), and on Redis skips the
/// entry-by-entry ownership check while the fence is unchanged. Whatever order the commits of the
/// same entries reach the log in — a first commit arriving after its own retry, after another
/// consumer claimed and committed the entries, or after the group was created again — each entry
/// counts once, exactly as an offline computation says. In each, the late commit's consumer holds a
/// second batch, as a worker that reads ahead does, so that counting its pending entries cannot
/// tell that the late batch is gone: only the fence can.
@Suite struct DeliveryFenceTests {
    /// `n` completions, every other one accepted, one second old.
    static func append(_ n: Int, to log: any EventLog, tag: String) async throws -> [EventRecord] {
        let now = unixNow()
        let records = (0..<n).map { (i: Int) -> EventRecord in
            let latency = Double(10 * (i + 1))
            return EventRecord(event: .completion(id: "\(tag)\(i)", session: "s-\(tag)", at: now - 1, latencyMilliseconds: latency, accepted: i % 2 == 0))
        }
        try await log.append(records)
        return records
    }

    static func commit(_ entries: [LogEntry], fence: String?) throws -> BatchCommit {
        let records = try entries.map { try EventRecord(entryFields: $0.fields ?? []) }
        return BatchCommit(acknowledged: entries.map(\.id), delta: DeltaCalculator.delta(for: records, bucketSeconds: 10), fence: fence)
    }

    /// The window's completions, acceptances and latency count equal the offline computation over
    /// `records` (each counted once), and nothing is pending.
    static func expectCountedOnce(_ records: [EventRecord], _ log: any EventLog, _ store: any StateStore) async throws {
        var offline = WindowSnapshot()
        for bucket in DeltaCalculator.delta(for: records, bucketSeconds: 10).buckets.values { offline.merge(bucket) }
        let window = try await store.window(now: unixNow())
        #expect(offline.completions == Double(records.count))
        #expect(window.completions == offline.completions, "completions \(window.completions), expected \(offline.completions)")
        #expect(window.accepted == offline.accepted, "accepted \(window.accepted), expected \(offline.accepted)")
        #expect(window.latency.count == offline.latency.count)
        #expect(try await log.figures().pending == 0)
    }

    /// The fenced first commit of `read`, arriving late, applies nothing; consumer `a`'s batch read
    /// ahead (`ahead`) then commits; and every one of `records` counts once.
    static func expectLateFirstCommitAppliesNothing(_ read: LogRead, then ahead: LogRead, counting records: [EventRecord],
                                                    _ log: any EventLog, _ store: any StateStore) async throws {
        let late = try await log.committer.commit(try commit(read.entries, fence: read.fence), consumer: "a")
        #expect(late == .notOwned(read.entries.map(\.id)))
        #expect(try await log.committer.commit(try commit(ahead.entries, fence: ahead.fence), consumer: "a") == .committed)
        try await expectCountedOnce(records, log, store)
    }

    static func fence(_ harness: Harness) async throws -> String? {
        guard let pool = harness.pool else { return nil }
        return try await pool.get(RedisKeys().deliveryFence)
    }

    @Test(arguments: Backend.allCases)
    func aFirstCommitThatArrivesAfterItsOwnRetryAppliesNothing(backend: Backend) async throws {
        try await backend.with { log, store, harness in
            let records = try await Self.append(40, to: log, tag: "r")
            let read = try await log.readNew(consumer: "a", count: 20, block: nil)
            let ahead = try await log.readNew(consumer: "a", count: 20, block: nil)
            #expect(read.entries.count == 20 && ahead.entries.count == 20)
            #expect((read.fence != nil) == (backend == .redis))
            // The first commit's reply was lost; the retry (no fence) reaches the log first...
            #expect(try await log.committer.commit(try Self.commit(read.entries, fence: nil), consumer: "a") == .committed)
            if backend == .redis { #expect(try await Self.fence(harness) != read.fence, "a commit without a fence changes it") }
            // ...and the first commit, still in flight, arrives after it.
            try await Self.expectLateFirstCommitAppliesNothing(read, then: ahead, counting: records, log, store)
        }
    }

    @Test(arguments: Backend.allCases)
    func aFirstCommitAfterAnotherConsumerClaimedAndCommittedItsEntriesAppliesNothing(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let records = try await Self.append(30, to: log, tag: "c")
            let read = try await log.readNew(consumer: "a", count: 15, block: nil)
            let claimed = try await log.claimIdle(consumer: "b", minIdle: .zero, count: 15)
            #expect(claimed.entries.map(\.id) == read.entries.map(\.id))
            let ahead = try await log.readNew(consumer: "a", count: 15, block: nil)
            #expect(try await log.committer.commit(try Self.commit(claimed.entries, fence: nil), consumer: "b") == .committed)
            try await Self.expectLateFirstCommitAppliesNothing(read, then: ahead, counting: records, log, store)
        }
    }

    /// The claimant commits after the fenced first commit: it finds the entries acknowledged. On
    /// Redis the fenced commit applies its whole batch (it does not look entry by entry: consumer `a`
    /// still holds as many entries as it commits); in memory it leaves out what was claimed.
    @Test(arguments: Backend.allCases)
    func aClaimantThatCommitsAfterTheFencedFirstCommitFindsTheEntriesAcknowledged(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let records = try await Self.append(20, to: log, tag: "d")
            let first = try await log.readNew(consumer: "a", count: 10, block: nil)
            let claimed = try await log.claimIdle(consumer: "b", minIdle: .zero, count: 5)
            #expect(claimed.entries.map(\.id) == Array(first.entries.prefix(5).map(\.id)))
            let second = try await log.readNew(consumer: "a", count: 10, block: nil)
            let outcome = try await log.committer.commit(try Self.commit(first.entries, fence: first.fence), consumer: "a")
            if backend == .redis {
                #expect(outcome == .committed)
            } else {
                #expect(outcome == .notOwned(claimed.entries.map(\.id)))
                #expect(try await log.committer.commit(try Self.commit(Array(first.entries.dropFirst(5)), fence: nil), consumer: "a") == .committed)
            }
            let byClaimant = try await log.committer.commit(try Self.commit(claimed.entries, fence: nil), consumer: "b")
            #expect(byClaimant == (backend == .redis ? .notOwned(claimed.entries.map(\.id)) : .committed))
            #expect(try await log.committer.commit(try Self.commit(second.entries, fence: second.fence), consumer: "a") == .committed)
            try await Self.expectCountedOnce(records, log, store)
        }
    }

    /// A fence changed since the read (here by `prepare()`, as a node starting does) sends the first
    /// commit to the entry-by-entry check: it commits once and leaves the fence as it found it.
    @Test func aStaleFenceFallsBackToTheEntryByEntryCheck() async throws {
        try await Backend.redis.with { log, store, harness in
            let records = try await Self.append(25, to: log, tag: "s")
            let read = try await log.readNew(consumer: "a", count: 100, block: nil)
            try await log.prepare()
            let changed = try await Self.fence(harness)
            #expect(changed != nil && changed != read.fence)
            #expect(try await log.committer.commit(try Self.commit(read.entries, fence: read.fence), consumer: "a") == .committed)
            #expect(try await Self.fence(harness) == changed)
            try await Self.expectCountedOnce(records, log, store)
        }
    }

    /// The group deleted and created again delivers the entries anew, to another consumer: a commit
    /// fenced before that finds them gone instead of counting them a second time.
    @Test func aGroupCreatedAgainRedeliversWithoutADoubleCount() async throws {
        try await Backend.redis.with { log, store, harness in
            let pool = try #require(harness.pool)
            let records = try await Self.append(15, to: log, tag: "g")
            let read = try await log.readNew(consumer: "a", count: 100, block: nil)
            _ = try await pool.send(RedisCommand("XGROUP", "DESTROY", .string(RedisKeys().events), .string(RedisKeys().group)))
            try await log.prepare()
            let again = try await log.readNew(consumer: "b", count: 100, block: nil)
            #expect(again.entries.map(\.id) == read.entries.map(\.id))
            let more = try await Self.append(15, to: log, tag: "h")
            let ahead = try await log.readNew(consumer: "a", count: 100, block: nil)
            #expect(try await log.committer.commit(try Self.commit(again.entries, fence: again.fence), consumer: "b") == .committed)
            try await Self.expectLateFirstCommitAppliesNothing(read, then: ahead, counting: records + more, log, store)
        }
    }

    /// The fence deleted (by an operator) between a read and the retry of its commit: set again, it
    /// takes a value it never had (max(old + 1, now in µs)), so the first commit, arriving late,
    /// still finds it changed.
    @Test func aFenceDeletedAndSetAgainNeverComesBackToAValueABatchWasReadWith() async throws {
        try await Backend.redis.with { log, store, harness in
            let pool = try #require(harness.pool)
            let records = try await Self.append(20, to: log, tag: "x")
            let read = try await log.readNew(consumer: "a", count: 10, block: nil)
            let ahead = try await log.readNew(consumer: "a", count: 10, block: nil)
            _ = try await pool.send(RedisCommand("DEL", .string(RedisKeys().deliveryFence)))
            #expect(try await log.committer.commit(try Self.commit(read.entries, fence: nil), consumer: "a") == .committed)
            let now = try #require(try await Self.fence(harness))
            #expect(now != read.fence && Int(now)! > Int(read.fence ?? "0")!)
            try await Self.expectLateFirstCommitAppliesNothing(read, then: ahead, counting: records, log, store)
        }
    }

    /// A fenced payload is checked as strictly as any: an acknowledged id that is not a stream id is
    /// refused before anything is written, and an id the consumer does not hold (it holds fewer
    /// entries than the payload acknowledges) sends the commit to the entry-by-entry check.
    @Test func aFencedPayloadWithAMalformedOrForeignIdChangesNothing() async throws {
        try await Backend.redis.with { log, _, harness in
            let pool = try #require(harness.pool)
            _ = try await Self.append(6, to: log, tag: "m")
            let read = try await log.readNew(consumer: "a", count: 3, block: nil)
            let foreign = try await log.readNew(consumer: "b", count: 3, block: nil)
            let fence = try #require(read.fence)
            let commit = try Self.commit(read.entries, fence: fence)
            let before = try await ApplyStepTests.redisState(pool)
            for wrong in ["\(read.entries[0].id)x", "99999999999999999999999-0", "-1", ""] {
                var hostile = commit
                hostile.acknowledged[0] = wrong
                await #expect(throws: ApplyError.self, "\(wrong)") { try await log.committer.commit(hostile, consumer: "a") }
                #expect(try await ApplyStepTests.redisState(pool) == before, "\(wrong): the refused commit changed something")
            }
            var widened = commit
            widened.acknowledged.append(foreign.entries[0].id)
            #expect(try await log.committer.commit(widened, consumer: "a") == .notOwned([foreign.entries[0].id]))
            #expect(try await ApplyStepTests.redisState(pool) == before)
            #expect(try await log.committer.commit(commit, consumer: "a") == .committed)
        }
    }

    /// A fenced commit of thousands of entries (acknowledged in chunks of 500), read in two reads
    /// under the first one's fence: one malformed id among them is refused before any write.
    @Test func aFencedCommitOfThousandsOfEntriesChecksEveryIdFirst() async throws {
        try await Backend.redis.with { log, store, harness in
            let pool = try #require(harness.pool)
            let records = try await Self.append(1_500, to: log, tag: "big0-") + Self.append(1_500, to: log, tag: "big1-")
            let first = try await log.readNew(consumer: "a", count: 1_500, block: nil)
            let second = try await log.readNew(consumer: "a", count: 1_500, block: nil)
            #expect(first.entries.count + second.entries.count == 3_000 && first.fence == second.fence)
            let commit = try Self.commit(first.entries + second.entries, fence: first.fence)
            var hostile = commit
            hostile.acknowledged[2_600] = "7-x"
            let before = try await ApplyStepTests.redisState(pool)
            await #expect(throws: ApplyError.self) { try await log.committer.commit(hostile, consumer: "a") }
            #expect(try await ApplyStepTests.redisState(pool) == before, "the refused commit changed something")
            #expect(try await log.committer.commit(commit, consumer: "a") == .committed)
            try await Self.expectCountedOnce(records, log, store)
        }
    }

    /// A fence that is not a counter stops `prepare()` with an error naming the key, and changes
    /// nothing; deleted, the fence is set again and the node starts.
    @Test func prepareRefusesAFenceThatIsNotACounterUntilItIsDeleted() async throws {
        try await Backend.redis.with { log, _, harness in
            let pool = try #require(harness.pool)
            let key = RedisKeys().deliveryFence
            _ = try await pool.send(RedisCommand("SET", .string(key), "12abc"))
            do {
                try await log.prepare()
                Issue.record("prepare accepted a fence holding '12abc'")
            } catch let error as RedisError {
                #expect(error.serverErrorCode == "TALLYSTATE" && "\(error)".contains(key), "\(error)")
            }
            #expect(try await pool.get(key) == "12abc")
            _ = try await pool.send(RedisCommand("DEL", .string(key)))
            try await log.prepare()
            #expect(try await pool.get(key).flatMap(Int.init) ?? 0 > 0)
        }
    }
}
