import Testing
import TallyPipeline
import TallyRedis
import TallyTesting

/// One suite, both logs: delivery, ownership, dead letters and trimming behave the same.
@Suite struct EventLogConformanceTests {
    static func events(_ n: Int, session: String = "s", at now: Double = unixNow()) -> [EventRecord] {
        (0..<n).map { EventRecord(event: .completion(id: "e\($0)", session: session, at: now - 1, latencyMilliseconds: Double(10 * ($0 + 1)), accepted: $0 % 2 == 0)) }
    }

    static func commit(_ entries: [LogEntry], bucketSeconds: Int = 10) throws -> BatchCommit {
        let records = try entries.map { try EventRecord(entryFields: $0.fields ?? []) }
        return BatchCommit(acknowledged: entries.map(\.id), delta: DeltaCalculator.delta(for: records, bucketSeconds: bucketSeconds))
    }

    @Test(arguments: Backend.allCases)
    func appendedEntriesAreDeliveredOnceInOrder(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let ids = try await log.append(Self.events(3))
            #expect(ids.count == 3)
            let read = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            #expect(read.map(\.id) == ids)
            #expect(try read.map { try EventRecord(entryFields: $0.fields ?? []).event.id } == ["e0", "e1", "e2"])
            let again = try await log.read(consumer: "b", from: .new, count: 10, block: .milliseconds(20))
            #expect(again.isEmpty)
            let figures = try await log.figures()
            #expect(figures.length == 3 && figures.pending == 3 && figures.lag == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func anEntryWithNoFieldOrTooManyIsRefusedAndNothingOfItsBatchIsAppended(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let good = [(name: "event", value: "{}")]
            let tooMany = (0...LogEntry.maxFields).map { (name: "f\($0)", value: "v\($0)") }
            await #expect(throws: UnappendableEntry(index: 1, fieldCount: 0)) { try await log.append(entries: [good, [], good]) }
            await #expect(throws: UnappendableEntry(index: 1, fieldCount: LogEntry.maxFields + 1)) { try await log.append(entries: [good, tooMany]) }
            #expect(try await log.figures().length == 0)
            // The widest entry allowed is stored whole, its fields in order.
            let widest = Array(tooMany.dropLast())
            let ids = try await log.append(entries: [good, widest])
            let read = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            #expect(read.map(\.id) == ids)
            #expect(read.last?.fields?.map(\.name) == widest.map(\.name))
            #expect(read.last?.fields?.map(\.value) == widest.map(\.value))
        }
    }

    @Test(arguments: Backend.allCases)
    func theOldestPendingEntrysAgeCountsFromItsAppendAndIsZeroWhenNothingIsPending(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            #expect(try await log.figures().oldestPendingAgeSeconds == 0)
            try await log.append(Self.events(2))
            // Appended but not delivered: lag, not pending.
            #expect(try await log.figures().oldestPendingAgeSeconds == 0)
            try await Task.sleep(for: .milliseconds(300))
            let read = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let age = try await log.figures().oldestPendingAgeSeconds
            #expect(age >= 0.25 && age < 30, "age \(age)")
            #expect(try await log.committer.commit(Self.commit(read), consumer: "a", now: unixNow()) == .committed)
            #expect(try await log.figures().oldestPendingAgeSeconds == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func aBlockedReadWakesWhenEntriesArrive(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            async let read = log.read(consumer: "a", from: .new, count: 10, block: .seconds(20))
            try await Task.sleep(for: .milliseconds(50))
            try await log.append(Self.events(2))
            #expect(try await read.count == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func aCommitAppliesTheDeltaAndAcknowledgesAtomically(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            try await log.append(Self.events(4))
            let read = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            #expect(try await log.committer.commit(Self.commit(read), consumer: "a", now: unixNow()) == .committed)
            let window = try await store.window(now: unixNow())
            #expect(window.completions == 4 && window.accepted == 2)
            #expect(try await log.figures().pending == 0)
            // A second commit of the same entries applies nothing: they are no longer pending.
            #expect(try await log.committer.commit(Self.commit(read), consumer: "a", now: unixNow()) == .notOwned(read.map(\.id)))
            #expect(try await store.window(now: unixNow()).completions == 4)
        }
    }

    @Test(arguments: Backend.allCases)
    func aConsumerWhoseEntriesWereClaimedAppliesNothing(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            try await log.append(Self.events(3))
            let stale = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let claimed = try await log.claimIdle(consumer: "b", minIdle: .zero, count: 1)
            #expect(claimed.entries.map(\.id) == [stale[0].id])
            let outcome = try await log.committer.commit(Self.commit(stale), consumer: "a", now: unixNow())
            #expect(outcome == .notOwned([stale[0].id]))
            #expect(try await store.window(now: unixNow()).completions == 0)
            #expect(try await log.figures().pending == 3)
            // Without the lost entry, a's commit goes through; b commits its own.
            #expect(try await log.committer.commit(Self.commit(Array(stale.dropFirst())), consumer: "a", now: unixNow()) == .committed)
            #expect(try await log.committer.commit(Self.commit(claimed.entries), consumer: "b", now: unixNow()) == .committed)
            #expect(try await store.window(now: unixNow()).completions == 3)
        }
    }

    @Test(arguments: Backend.allCases)
    func ownershipIsCheckedEvenWhenTheConsumerHoldsManyOtherPendingEntries(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            for _ in 0..<3 { try await log.append(Self.events(1000)) }
            let read = try await log.read(consumer: "a", from: .new, count: 3000, block: nil)
            #expect(read.count == 3000)
            let ends = [read[0], read[2999]]
            #expect(try await log.committer.commit(Self.commit(ends), consumer: "a", now: unixNow()) == .committed)
            let claimed = try await log.claimIdle(consumer: "b", minIdle: .zero, count: 1)
            #expect(try await log.committer.commit(Self.commit([claimed.entries[0], read[2998]]), consumer: "a", now: unixNow()) == .notOwned([claimed.entries[0].id]))
            #expect(try await store.window(now: unixNow()).completions == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func deliveryCountsComeFromTheLog(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let ids = try await log.append(Self.events(2))
            _ = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            _ = try await log.claimIdle(consumer: "b", minIdle: .zero, count: 1)
            let mine = try await log.read(consumer: "a", from: .pending(after: "0"), count: 10, block: nil)
            #expect(mine.map(\.id) == [ids[1]])
            #expect(try await log.deliveryCounts(of: ids + ["999-0"]) == [ids[0]: 2, ids[1]: 2])
            let after = try await log.read(consumer: "a", from: .pending(after: ids[1]), count: 10, block: nil)
            #expect(after.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func deadLettersKeepTheErrorAndOriginalFieldsAndReplayWithAFreshDeliveryCount(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let ids = try await log.append(entries: [[(name: "event", value: "{bad"), (name: "source", value: "test")]])
            _ = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let commit = BatchCommit(acknowledged: [], delta: StateDelta(), deadLetters: [DeadLetterRequest(id: ids[0], error: "the body is not valid JSON", deliveries: 3)])
            #expect(try await log.committer.commit(commit, consumer: "a", now: 1234.5) == .committed)
            let figures = try await log.figures()
            #expect(figures.pending == 0 && figures.deadLetters == 1)
            let letters = try await log.deadLetters(count: 10)
            #expect(letters.count == 1)
            #expect(letters[0].originalID == ids[0] && letters[0].error == "the body is not valid JSON")
            #expect(letters[0].deliveries == 3 && letters[0].failedAt == 1234.5)
            #expect(letters[0].fields.map(\.name) == ["event", "source"])
            #expect(try await log.replayDeadLetters(ids: nil) == 1)
            #expect(try await log.figures().deadLetters == 0)
            let replayed = try await log.read(consumer: "b", from: .new, count: 10, block: nil)
            #expect(replayed.count == 1 && replayed[0].id != ids[0])
            #expect(replayed[0].fields?.map(\.value) == ["{bad", "test"])
            #expect(try await log.deliveryCounts(of: [replayed[0].id]) == [replayed[0].id: 1])
        }
    }

    @Test(arguments: Backend.allCases)
    func purgeAndSelectiveReplayOfDeadLetters(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let ids = try await log.append(entries: (0..<3).map { [(name: "junk", value: "\($0)")] })
            _ = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let letters = ids.map { DeadLetterRequest(id: $0, error: "no event", deliveries: 3) }
            #expect(try await log.committer.commit(BatchCommit(acknowledged: [], delta: StateDelta(), deadLetters: letters), consumer: "a", now: 1) == .committed)
            let stored = try await log.deadLetters(count: 10)
            #expect(try await log.replayDeadLetters(ids: [stored[1].id]) == 1)
            #expect(try await log.deadLetters(count: 10).map(\.originalID) == [ids[0], ids[2]])
            #expect(try await log.purgeDeadLetters() == 2)
            #expect(try await log.figures().deadLetters == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func trimmingKeepsPendingAndUndeliveredEntries(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            try await log.append(Self.events(6))
            let first = try await log.read(consumer: "a", from: .new, count: 4, block: nil)
            // Acknowledge entries 0, 1 and 3; entry 2 stays pending, 4 and 5 are undelivered.
            let done = [first[0], first[1], first[3]]
            #expect(try await log.committer.commit(Self.commit(done), consumer: "a", now: unixNow()) == .committed)
            #expect(try await log.trim() == 2)
            #expect(try await log.figures().length == 4)
            let pending = try await log.read(consumer: "a", from: .pending(after: "0"), count: 10, block: nil)
            #expect(pending.map(\.id) == [first[2].id])
            #expect(try await log.read(consumer: "a", from: .new, count: 10, block: nil).count == 2)
        }
    }

    @Test func claimingAcknowledgesAndCountsEntriesDeletedWhilePending() async throws {
        try await Backend.redis.with { log, _, harness in
            let pool = try #require(harness.pool)
            let ids = try await log.append(Self.events(3))
            _ = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            try await pool.xdel(RedisKeys().events, ids: [ids[1]])
            let claimed = try await log.claimIdle(consumer: "b", minIdle: .zero, count: 10)
            #expect(claimed.entries.map(\.id) == [ids[0], ids[2]])
            #expect(claimed.deletedAcknowledged == 1)
            #expect(try await log.figures().pending == 2)
        }
    }
}

@Suite struct RedisEventLogTests {
    /// Evicted state keys mean silently wrong numbers: `prepare` refuses an evicting server unless
    /// eviction is allowed, and then it creates the stream and group as usual.
    @Test func prepareRefusesAnEvictingServerUnlessEvictionIsAllowed() async throws {
        try await withRedisServer(extraArguments: ["--maxmemory-policy", "allkeys-lru"]) { server in
            let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(connection: server.configuration(), leaseTimeout: RedisServer.leaseTimeout))
            let refusing = RedisEventLog(client: pool)
            await #expect(throws: RedisPreflight.Refusal.evictionPolicy("allkeys-lru")) { try await refusing.prepare() }
            #expect(try await pool.send(RedisCommand("EXISTS", .string(RedisKeys().events))).int == 0, "a refused prepare creates nothing")
            #expect(try await refusing.evictionPolicy() == "allkeys-lru")
            let allowing = RedisEventLog(client: pool, allowEviction: true)
            try await allowing.prepare()
            #expect(try await allowing.figures().length == 0)
            await pool.close()
        }
    }
}
