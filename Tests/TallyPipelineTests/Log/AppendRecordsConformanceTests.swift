import Testing
import TallyPipeline
import TallyRedis
import TallyTesting

/// Idempotency keys and event-id dedupe, recorded in the log's atomic append: the same rules on both logs.
@Suite struct AppendRecordsConformanceTests {
    static func batch(_ ids: [String], session: String = "s") -> [EventRecord] {
        ids.map { EventRecord(event: .completion(id: $0, session: session, at: unixNow() - 1, latencyMilliseconds: 5, accepted: true)) }
    }

    static func request(_ ids: [String], key: String? = nil, fingerprint: String = "f1", dedupe: Bool = false) -> AppendRequest {
        let records = batch(ids)
        return AppendRequest(records: records, deduplicationIDs: dedupe ? ids : nil,
                             idempotency: key.map { IdempotencyClaim(key: $0, fingerprint: fingerprint, acceptedCount: ids.count) })
    }

    /// The event ids stored in the log, in order.
    static func storedIDs(_ log: any EventLog) async throws -> [String] {
        var ids: [String] = []
        while true {
            let read = try await log.read(consumer: "reader", from: .new, count: 1000, block: nil)
            if read.isEmpty { return ids }
            ids += try read.map { try EventRecord(entryFields: $0.fields ?? []).event.id }
        }
    }

    @Test(arguments: Backend.allCases)
    func aKeyRecordedWithTheSameBodyReplaysAndStoresNothing(backend: Backend) async throws {
        try await backend.with { (log, _, _) async throws in
            guard case .appended(let ids, let duplicates) = try await log.append(Self.request(["a", "b"], key: "k1")) else {
                Issue.record("the first request must append")
                return
            }
            #expect(ids.count == 2 && duplicates.isEmpty)
            #expect(try await log.append(Self.request(["a", "b"], key: "k1")) == .replayed(acceptedCount: 2))
            // Another body under the same key: a conflict, nothing stored.
            #expect(try await log.append(Self.request(["x", "y", "z"], key: "k1", fingerprint: "f2")) == .conflict(acceptedCount: 2))
            // Another key stores its batch.
            guard case .appended = try await log.append(Self.request(["c"], key: "k2")) else {
                Issue.record("a new key must append")
                return
            }
            #expect(try await Self.storedIDs(log) == ["a", "b", "c"])
            #expect(try await log.appendRecordFigures().idempotencyKeys == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentCopiesOfOneKeyAreStoredExactlyOnce(backend: Backend) async throws {
        try await backend.with { (log, _, _) async throws in
            let outcomes = try await withThrowingTaskGroup(of: AppendOutcome.self) { group in
                for _ in 0..<24 { group.addTask { try await log.append(Self.request(["a", "b", "c"], key: "retry-me")) } }
                return try await group.reduce(into: [AppendOutcome]()) { $0.append($1) }
            }
            let appended = outcomes.filter { if case .appended = $0 { return true } else { return false } }
            #expect(appended.count == 1)
            #expect(outcomes.filter { $0 == .replayed(acceptedCount: 3) }.count == 23)
            #expect(try await Self.storedIDs(log) == ["a", "b", "c"])
        }
    }

    @Test(arguments: Backend.allCases)
    func keysExpireAfterTheirWindowAndAreBoundedInNumber(backend: Backend) async throws {
        try await backend.with(appendPolicy: AppendPolicy(idempotencyWindow: .seconds(3), maxIdempotencyKeys: 3)) { (log, _, _) async throws in
            for key in ["k1", "k2", "k3", "k4", "k5"] { _ = try await log.append(Self.request([key], key: key)) }
            var figures = try await log.appendRecordFigures()
            #expect(figures.idempotencyKeys == 3 && figures.idempotencyKeysEvicted == 2)
            // k1 was evicted early: it is a new key again; k5 is still remembered.
            #expect(try await log.append(Self.request(["k5"], key: "k5")) == .replayed(acceptedCount: 1))
            try await Task.sleep(for: .milliseconds(3100))
            guard case .appended = try await log.append(Self.request(["k5"], key: "k5")) else {
                Issue.record("a key past its window must append again")
                return
            }
            figures = try await log.appendRecordFigures()
            #expect(figures.idempotencyKeys == 1, "\(figures)")
        }
    }

    @Test(arguments: Backend.allCases)
    func eventsWhoseIDsWereAppendedWithinTheWindowAreLeftOutAndCounted(backend: Backend) async throws {
        try await backend.with(appendPolicy: AppendPolicy(dedupeWindow: .seconds(600))) { (log, _, _) async throws in
            #expect(try await log.append(Self.request(["a", "b", "a"], dedupe: true)).duplicates == [2])
            #expect(try await log.append(Self.request(["b", "c", "d", "c"], dedupe: true)).duplicates == [0, 3])
            // Ids of events accepted but not stored (sampled out) count as appended too.
            let sampled = AppendRequest(records: [], acceptedUnstored: [UnstoredEvent(id: "e", sessionID: "s")])
            _ = try await log.append(sampled)
            #expect(try await log.append(Self.request(["e", "f"], dedupe: true)).duplicates == [0])
            // Records without a client id are never left out.
            let unnamed = AppendRequest(records: Self.batch(["a", "a"]), deduplicationIDs: [nil, nil])
            #expect(try await log.append(unnamed).duplicates == [])
            #expect(try await Self.storedIDs(log) == ["a", "b", "c", "d", "f", "a", "a"])
            #expect(try await log.appendRecordFigures().dedupeIDs == 6)
        }
    }

    @Test(arguments: Backend.allCases)
    func dedupedIDsAreForgottenWholeSlicesAfterTheWindow(backend: Backend) async throws {
        try await backend.with(appendPolicy: AppendPolicy(dedupeWindow: .seconds(2))) { (log, _, _) async throws in
            #expect(try await log.append(Self.request(["a"], dedupe: true)).duplicates == [])
            #expect(try await log.append(Self.request(["a"], dedupe: true)).duplicates == [0])
            // Kept for at least the window, forgotten by window + one slice (5 slices of 500 ms).
            try await Task.sleep(for: .milliseconds(2600))
            #expect(try await log.append(Self.request(["a"], dedupe: true)).duplicates == [])
            #expect(try await Self.storedIDs(log) == ["a", "a"])
        }
    }

    @Test(arguments: Backend.allCases)
    func dedupeOffStoresEverything(backend: Backend) async throws {
        try await backend.with { (log, _, _) async throws in
            #expect(try await log.append(Self.request(["a", "a"], dedupe: true)).duplicates == [])
            #expect(try await Self.storedIDs(log) == ["a", "a"])
            #expect(try await log.appendRecordFigures().dedupeIDs == 0)
        }
    }
}

extension AppendOutcome {
    /// The positions left out as duplicates (nil unless appended).
    var duplicates: [Int]? {
        if case .appended(_, let duplicates) = self { return duplicates }
        return nil
    }
}
