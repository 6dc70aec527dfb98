import TallyPipeline
import Testing

/// What `tally dlq` does, on both backends.
@Suite struct DeadLetterStoreTests {
    @Test(arguments: Backend.allCases)
    func listReplayAndPurgeWorkOnTheStore(backend: Backend) async throws {
        try await backend.with { log, _, _ in
            let ids = try await log.append(entries: (0..<4).map { [(name: "bad", value: "\($0)")] })
            _ = try await log.read(consumer: "a", from: .new, count: 10, block: nil)
            let letters = ids.map { DeadLetterRequest(id: $0, error: "'event' missing", deliveries: 3) }
            #expect(try await log.committer.commit(BatchCommit(acknowledged: [], delta: StateDelta(), deadLetters: letters), consumer: "a", now: 1) == .committed)

            #expect(try await log.deadLetterCount() == 4)
            let listed = try await log.deadLetters(count: 2)
            #expect(listed.map(\.originalID) == Array(ids.prefix(2)))
            #expect(listed.allSatisfy { $0.error == "'event' missing" && $0.deliveries == 3 })
            #expect(try await log.replayDeadLetters(ids: [listed[0].id]) == 1)
            #expect(try await log.deadLetterCount() == 3)
            #expect(try await log.replayDeadLetters(ids: nil) == 3)
            #expect(try await log.figures().length == 8)
            #expect(try await log.purgeDeadLetters() == 0)
        }
    }
}
