import Foundation
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

@Suite struct PoisonEntryTests {
    static func configuration() -> WorkerConfiguration {
        var configuration = WorkerPoolTests.fastConfiguration()
        configuration.claimMinIdle = .milliseconds(100)
        configuration.claimInterval = .milliseconds(50)
        configuration.block = .milliseconds(50)
        return configuration
    }

    static let poison: [[(name: String, value: String)]] = [
        [(name: "event", value: #"{"id":"p1","type":"completion","ts":5}"#)],
        [(name: "junk", value: "x")],
    ]

    @Test(arguments: Backend.allCases)
    func poisonEntriesAreDeadLetteredAfterExactlyThreeDeliveriesWhileTheRestOfTheirBatchIsApplied(backend: Backend) async throws {
        try await backend.with { log, store, harness in
            let now = unixNow()
            let good = (0..<10).map { TelemetryEvent.completion(id: "g\($0)", session: "s", at: now - 1, latencyMilliseconds: 50, accepted: true) }.records
            // One batch: 5 good, a poison entry, 5 good, another poison entry.
            let entries = good.prefix(5).map(\.fields) + [Self.poison[0]] + good.suffix(5).map(\.fields) + [Self.poison[1]]
            let ids = try await log.append(entries: entries)
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            try await WorkerPoolTests.drain(log, workers: 1, configuration: Self.configuration(), metrics: metrics) { $0.deadLetters == 2 }

            #expect(try await store.window(now: unixNow()).completions == 10)
            #expect(metrics.deadLettered.value == 2)
            #expect(metrics.retried.value == 4)
            let letters = try await log.deadLetters(count: 10)
            #expect(letters.map(\.originalID) == [ids[5], ids[11]])
            #expect(letters.map(\.deliveries) == [3, 3])
            #expect(letters[0].error.contains("'session_id' is required"))
            #expect(letters[1].error.contains("'event'"))
            #expect(letters[1].fields.map(\.name) == ["junk"])

            if let server = harness.server {
                // What an operator sees.
                let cli = Process()
                cli.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                cli.arguments = ["redis-cli", "-p", "\(server.port)", "XRANGE", "{tally}:dlq", "-", "+"]
                let output = Pipe()
                cli.standardOutput = output
                try cli.run()
                let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                await cli.exited()
                #expect(text.contains("failed_at") && text.contains("session_id") && text.contains("deliveries"))
            }

            // Replay: back in the log with a fresh delivery count, so again exactly three deliveries.
            #expect(try await log.replayDeadLetters(ids: nil) == 2)
            try await WorkerPoolTests.drain(log, workers: 1, configuration: Self.configuration(), metrics: metrics) { $0.deadLetters == 2 }
            let again = try await log.deadLetters(count: 10)
            #expect(again.map(\.deliveries) == [3, 3])
            #expect(again.map { $0.fields.map(\.value) } == [[Self.poison[0][0].value], ["x"]])
            #expect(try await log.purgeDeadLetters() == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func replayedFixedEntriesAreProcessed(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            // A valid event written before the store knew its session: dead-lettered by hand, replayed, applied.
            let record = EventRecord(event: .completion(id: "r", session: "s", at: unixNow() - 1, latencyMilliseconds: 5, accepted: false))
            let ids = try await log.append([record])
            _ = try await log.read(consumer: "a", from: .new, count: 1, block: nil)
            _ = try await log.commit(BatchCommit(acknowledged: [], delta: StateDelta(), deadLetters: [DeadLetterRequest(id: ids[0], error: "store down", deliveries: 3)]), consumer: "a", now: unixNow())
            #expect(try await log.replayDeadLetters(ids: try await log.deadLetters(count: 1).map(\.id)) == 1)
            try await WorkerPoolTests.drain(log, workers: 1, configuration: Self.configuration())
            #expect(try await store.window(now: unixNow()).completions == 1)
        }
    }
}
