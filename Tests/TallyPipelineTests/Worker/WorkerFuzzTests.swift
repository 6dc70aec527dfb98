import Foundation
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

/// Random and extreme entries written straight into the log: the workers never crash, every bad
/// entry is dead-lettered, and the good entries around them are counted exactly.
@Suite struct WorkerFuzzTests {
    /// An entry to write, and the record it decodes to when it is a good one.
    struct FuzzEntry {
        var fields: [(name: String, value: String)]
        var good: EventRecord?
    }

    /// Weights whose sums are exact in any order.
    static let weights: [Double] = [1, 1, 1, 2, 4, 8, 1_000_000]
    static let tools = ["grep", "edit", "工具 🔧", "bash"]

    static func goodEvent(_ random: inout SeededRandom, index: Int, now: Double) -> EventRecord {
        let ts = now - 1 - Double(random.next() % 200)
        let session = "s\(random.next() % 40)"
        let id = "g\(index)"
        let event: TelemetryEvent
        switch random.next() % 5 {
        case 0: event = .completion(id: id, session: session, at: ts, latencyMilliseconds: Double(random.next() % 3_600_001) / 8, accepted: random.next() % 3 == 0)
        case 1: event = .toolCall(id: id, session: session, at: ts, tool: tools[Int(random.next() % 4)], success: random.next() % 4 != 0)
        case 2: event = .clientError(id: id, session: session, at: ts, code: "E\(random.next() % 5)")
        case 3: event = .sessionStart(id: id, session: session, at: ts)
        default: event = .sessionEnd(id: id, session: session, at: ts)
        }
        return EventRecord(event: event, weight: weights[Int(random.next() % UInt64(weights.count))])
    }

    /// A bad entry: one of many ways a stored entry can be wrong.
    static func badEntry(_ random: inout SeededRandom, index: Int, now: Double) -> [(name: String, value: String)] {
        let valid = EventRecord.encode(.completion(id: "b\(index)", session: "s", at: now - 5, latencyMilliseconds: 10, accepted: true))
        let head = #"{"id":"b\#(index)","session_id":"s","ts":\#(now - 5),"#
        func event(_ json: String) -> [(name: String, value: String)] { [(name: "event", value: json)] }
        func junk(_ count: Int) -> [(name: String, value: String)] { (0..<count).map { (name: "f\($0)", value: "\($0)") } }
        switch random.next() % 24 {
        case 0: return event(String(valid.prefix(Int(random.next() % UInt64(valid.utf8.count - 1)))))  // truncated JSON
        case 1:  // random JSON-ish characters
            let alphabet = Array(#"{}[]":,\ax0-9e.tn"#)
            return event(String((0..<Int(1 + random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
        case 2: return [(name: "junk", value: valid)]  // no `event`
        case 3: return event(valid) + [(name: "extra", value: "x")]
        case 4: return event(valid) + junk(1000 + Int(random.next() % 2000))  // thousands of fields
        case 5: return junk(3000)
        case 6: return event(valid) + event(valid)  // `event` twice
        case 7: return event(head + #""type":"completion","accepted":true,"latency_ms":1e308}"#)
        case 8: return event(head + #""type":"completion","accepted":true,"latency_ms":-1}"#)
        case 9: return event(head + #""type":"completion","accepted":true,"latency_ms":1e400}"#)
        case 10: return event(#"{"id":"b\#(index)","session_id":"s","type":"session_start","ts":\#(["1e300", "-5", "253402300800", "-1e400", "\"soon\""][Int(random.next() % 5)])}"#)
        case 11: return event(valid) + [(name: "weight", value: ["1e300", "0", "-3", "nan", "inf", "1000001", "1e6x", "", "0.5", "1e-300"][Int(random.next() % 10)])]
        case 12: return event(valid) + [(name: "weight", value: "2"), (name: "weight", value: "2")]
        case 13: return event(head.replacingOccurrences(of: #""session_id":"s""#, with: #""session_id":"\#(String(repeating: "s", count: 10_000))""#) + #""type":"session_start"}"#)
        case 14: return event(head + #""type":"tool_call","success":true,"tool":"\#(String(repeating: "t", count: 65 + Int(random.next() % 100_000)))"}"#)
        case 15: return event(head + #""type":"error","code":"\#(String(repeating: "é", count: 33))"}"#)
        case 16: return event(head + #""type":"session_start","attributes":{"a":"\#(String(repeating: "x", count: 20_000))"}}"#)
        case 17: return event(head + #""type":"completion","accepted":"yes","latency_ms":5}"#)
        case 18: return event(head + #""type":"completion","accepted":true,"latency_ms":"abc"}"#)
        case 19: return event(head + #""type":"nap"}"#)
        case 20: return event(#"{"id":"b\#(index)","type":"session_start","ts":\#(now - 5)}"#)  // no session_id
        case 21: return event(head + #""type":"completion","accepted":true}"#)  // no latency
        case 22: return event("")
        default: return event(head + #""type":"tool_call","tool":"grep","success":1}"#)
        }
    }

    static func entries(seed: UInt64, count: Int, now: Double) -> [FuzzEntry] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { index in
            if random.next() % 4 == 0 { return FuzzEntry(fields: badEntry(&random, index: index, now: now), good: nil) }
            let record = goodEvent(&random, index: index, now: now)
            return FuzzEntry(fields: record.fields, good: record)
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: Backend.allCases, [UInt64(2026), 77])
    func randomAndExtremeEntriesAreDeadLetteredAndTheRestCountedExactly(backend: Backend, seed: UInt64) async throws {
        try await backend.with { log, store, _ in
            let now = unixNow()
            let fuzz = Self.entries(seed: seed, count: 1200, now: now)
            var ids: [String] = []
            for start in stride(from: 0, to: fuzz.count, by: 100) {
                ids += try await log.append(entries: fuzz[start..<min(start + 100, fuzz.count)].map(\.fields))
            }
            let bad = Set(zip(ids, fuzz).filter { $0.1.good == nil }.map(\.0))
            let good = fuzz.compactMap(\.good)
            #expect(bad.count > 200 && good.count > 800)

            var configuration = CommitFailureTests.configuration(batchSize: 100, maxDeliveries: 2)
            // Long enough for a debug build to decode a batch of the heaviest entries even while the
            // suite loads both cores, so that two workers do not keep claiming one batch from each
            // other (at 1 s they did, and a loaded run took over 2 minutes).
            configuration.claimMinIdle = .seconds(3)
            configuration.claimInterval = .milliseconds(100)
            let metrics = try PipelineMetrics(registry: MetricsRegistry())
            let started = ContinuousClock.now
            let pool = WorkerPool(log: log, committer: log.committer, concurrency: 2, configuration: configuration, metrics: metrics, consumerPrefix: "fuzz", executor: testWorkerExecutor)
            let running = Task { await pool.run() }
            try await CommitFailureTests.drained(log) { $0.deadLetters == bad.count }
            pool.stop()
            await running.value
            #expect(ContinuousClock.now - started < .seconds(60))

            let letters = try await log.deadLetters(count: 10_000)
            #expect(letters.count == bad.count)
            #expect(Set(letters.map(\.originalID)) == bad)
            #expect(letters.allSatisfy { $0.deliveries >= 2 && !$0.error.isEmpty })
            #expect(WorkerPoolTests.processed(metrics) == Int64(good.count))
            #expect(metrics.commitFailureCounter(.poison).value == 0 && metrics.commitFailureCounter(.systemic).value == 0)

            // The good entries, computed offline.
            var completions = 0.0, accepted = 0.0, latencyCount = 0.0, latencySum = 0.0
            var tools: [String: OutcomeCounts] = [:]
            var codes: [String: Double] = [:]
            for record in good {
                let event = record.event
                switch event.type {
                case .completion:
                    completions += record.weight
                    if event.accepted == true { accepted += record.weight }
                    latencyCount += record.weight
                    latencySum += event.latencyMilliseconds! / 1000 * record.weight
                case .toolCall:
                    tools[event.tool!, default: OutcomeCounts()] = tools[event.tool!, default: OutcomeCounts()]
                        + (event.success == true ? OutcomeCounts(success: record.weight) : OutcomeCounts(failure: record.weight))
                case .error:
                    codes[event.code!, default: 0] += record.weight
                default:
                    break
                }
            }
            let window = try await store.window(now: unixNow())
            #expect(window.completions == completions)
            #expect(window.accepted == accepted)
            #expect(window.latency.count == latencyCount)
            #expect(abs(window.latency.sum - latencySum) <= 1e-9 * latencySum)
            #expect(try await store.toolCallTotals() == tools)
            #expect(try await store.errorCodeTotals() == codes)
        }
    }
}
