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

    /// Stored events that break a bound of ingest, each with the field its dead letter must name.
    static func hostile(at ts: Double) -> [(json: String, field: String)] {
        let base = #""session_id":"s","ts":\#(ts)"#
        let completion = #"{"type":"completion","accepted":true,\#(base),"#
        return [
            (completion + #""id":"h1","latency_ms":1e308}"#, "'latency_ms'"),
            (completion + #""id":"h2","latency_ms":-1}"#, "'latency_ms'"),
            (completion + #""id":"h3","latency_ms":1e400}"#, "'latency_ms'"),
            (completion + #""id":"h4","latency_ms":NaN}"#, "not valid JSON"),
            (completion + #""id":"h5","latency_ms":"NaN"}"#, "'latency_ms'"),
            (#"{"type":"session_start","session_id":"s","id":"h6","ts":1e300}"#, "'ts'"),
            (#"{"type":"session_start","session_id":"s","id":"h7","ts":-1e400}"#, "'ts'"),
            (#"{"type":"tool_call","success":true,"id":"h8",\#(base),"tool":"e\#(String(repeating: "\u{301}", count: 4_000))"}"#, "'tool'"),
            (#"{"type":"session_start","id":"h9","ts":\#(ts),"session_id":"s\#(String(repeating: #"\u0301"#, count: 100))"}"#, "'session_id'"),
            (#"{"type":"tool_call","success":true,"id":"h10",\#(base),"tool":"gr\u0007ep"}"#, "'tool'"),
            (#"{"type":"error","id":"h11",\#(base),"code":"E\u2028"}"#, "'code'"),
            (#"{"type":"session_start","id":"h12",\#(base),"attributes":{"k":"\#(String(repeating: "v", count: 257))"}}"#, "'attributes.k'"),
            (#"{"type":"session_start","id":"h13",\#(base),"attributes":{\#((0..<17).map { "\"k\($0)\":\"v\"" }.joined(separator: ","))}}"#, "'attributes'"),
            (#"{"type":"session_start","id":"h14",\#(base),"x":"\#(String(repeating: "x", count: 9_000))"}"#, "JSON object"),
        ]
    }

    @Test(arguments: Backend.allCases)
    func hostileValuesWrittenStraightIntoTheLogAreDeadLetteredAndTheGoodEntriesAroundThemCountedExactly(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let now = unixNow()
            let hostile = Self.hostile(at: now - 1)
            // Values at the edges of the bounds are good entries, not poison.
            let latencies: [Double] = [0, -0.0, 0x1p-1063, 3_600_000, 50]  // 0x1p-1063 ≈ 1.1e-320, a subnormal
            var entries: [[(name: String, value: String)]] = []
            var good = 0
            var latencySum = 0.0
            for (index, bad) in hostile.enumerated() {
                let latency = latencies[index % latencies.count]
                entries.append(EventRecord(event: .completion(id: "g\(index)", session: "s", at: now - 1, latencyMilliseconds: latency, accepted: index % 2 == 0)).fields)
                entries.append([(name: "event", value: bad.json)])
                good += 1
                latencySum += latency
            }
            entries.append(EventRecord(event: .toolCall(id: "g-tool", session: "s", at: now - 1, tool: "工具 🔧", success: true)).fields)
            let ids = try await log.append(entries: entries)
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            try await WorkerPoolTests.drain(log, workers: 2, configuration: Self.configuration(), metrics: metrics) { $0.deadLetters == hostile.count }

            let window = try await store.window(now: unixNow())
            #expect(window.completions == Double(good))
            #expect(window.accepted == Double((0..<good).filter { $0 % 2 == 0 }.count))
            #expect(abs(window.latency.sum - latencySum / 1000) <= 1e-9 * latencySum / 1000)
            #expect(try await store.toolCallTotals()["工具 🔧"] == OutcomeCounts(success: 1))
            #expect(WorkerPoolTests.processed(metrics) == Int64(good + 1))
            #expect(metrics.deadLettered.value == Int64(hostile.count))
            let letters = try await log.deadLetters(count: 100)
            #expect(Set(letters.map(\.originalID)) == Set(stride(from: 1, to: ids.count - 1, by: 2).map { ids[$0] }))
            for letter in letters {
                let json = letter.fields.first { $0.name == "event" }?.value ?? ""
                guard let bad = hostile.first(where: { $0.json == json }) else {
                    Issue.record("dead letter \(letter.originalID) holds an entry that was not written: \(json.prefix(80))")
                    continue
                }
                #expect(letter.error.contains(bad.field), "\(json.prefix(80)): \(letter.error)")
                // At least the configured 3; two workers claiming from each other on a loaded machine can add more.
                #expect(letter.deliveries >= 3, "\(letter.deliveries) deliveries")
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func replayedFixedEntriesAreProcessed(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            // A valid event written before the store knew its session: dead-lettered by hand, replayed, applied.
            let record = EventRecord(event: .completion(id: "r", session: "s", at: unixNow() - 1, latencyMilliseconds: 5, accepted: false))
            let ids = try await log.append([record])
            _ = try await log.read(consumer: "a", from: .new, count: 1, block: nil)
            _ = try await log.committer.commit(BatchCommit(acknowledged: [], delta: StateDelta(), deadLetters: [DeadLetterRequest(id: ids[0], error: "store down", deliveries: 3)]), consumer: "a", now: unixNow())
            #expect(try await log.replayDeadLetters(ids: try await log.deadLetters(count: 1).map(\.id)) == 1)
            try await WorkerPoolTests.drain(log, workers: 1, configuration: Self.configuration())
            #expect(try await store.window(now: unixNow()).completions == 1)
        }
    }
}
