import AsyncHTTPClient
import Foundation
import NIOCore
import TallyCore
import Testing
import TallyPipeline
import TallyRedis
import TallyTesting

/// Clients retry: after a timeout, on another node, while Redis is away. Two `tally serve`
/// processes on one Redis must still store every event exactly once, and the state must equal
/// an exact offline computation of the events.
@Suite struct RetryExactnessTests {
    struct Posted: Sendable {
        let status: Int
        let body: String
        let replayed: Bool
        let retryAfter: String?
        let seconds: Double
    }

    static func post(_ base: String, _ body: String, key: String? = nil, client: HTTPClient) async throws -> Posted {
        var request = HTTPClientRequest(url: base + "/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
        if let key { request.headers.add(name: "Idempotency-Key", value: key) }
        request.body = .bytes(ByteBuffer(string: body))
        let started = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let elapsed = ContinuousClock.now - started
        return Posted(status: Int(response.status.code), body: text, replayed: response.headers.first(name: "Idempotent-Replayed") == "true",
                      retryAfter: response.headers.first(name: "Retry-After"),
                      seconds: elapsed.secondsValue)
    }

    /// Two nodes (one in-process worker each) on `redis`, answering; stopped by `stop`.
    static func twoNodes(redis: String, arguments: [String] = []) async throws -> (bases: [String], processes: [Process]) {
        var bases: [String] = []
        var processes: [Process] = []
        let probe = HTTPClient.shared
        for _ in 0..<2 {
            let port = ServeProcessTests.freePort()
            processes.append(try ServeProcessTests.startServe(port: port, redis: redis, arguments: ["--workers", "1"] + arguments))
            bases.append("http://127.0.0.1:\(port)")
            #expect(try await ServeProcessTests.waitUntilUp(bases.last!, client: probe))
        }
        return (bases, processes)
    }

    /// SIGTERM, then SIGKILL for a process still running 15 s later: a stop never hangs a test.
    static func stop(_ processes: [Process]) async {
        for process in processes where process.isRunning { process.terminate() }
        let killAt = ContinuousClock.now + .seconds(15)
        for process in processes {
            while process.isRunning {
                if ContinuousClock.now > killAt { kill(process.processIdentifier, SIGKILL) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Waits until the log is drained and returns what the store holds.
    static func settledTotals(_ redis: RedisServer) async throws -> ExactTotals {
        let pool = try RedisConnectionPool(url: redis.url, leaseTimeout: RedisServer.leaseTimeout)
        defer { Task { await pool.close() } }
        let log = RedisEventLog(client: pool)
        // A read that fails while the server catches up (a resumed or busy Redis) is retried, not fatal.
        let drained = try await eventually(seconds: 60) {
            guard let figures = try? await log.figures() else { return false }
            return figures.lag == 0 && figures.pending == 0
        }
        #expect(drained)
        return try await ExactTotals.read(from: RedisStateStore(client: pool), now: Date().timeIntervalSince1970)
    }

    @Test func everyBatchPostedSixTimesAcrossTwoNodesIsStoredOnce() async throws {
        let redis = try await RedisServer.start()
        let (bases, processes) = try await Self.twoNodes(redis: redis.url)
        let client = HTTPClient.shared

        var generator = SessionEventGenerator(sessions: 50, seed: 611)
        let batches = (0..<40).map { _ in generator.batch(50) }
        let decoder = EventDecoder()
        var expected = ExactTotals()
        for batch in batches {
            for event in try decoder.decodeBatch(Array(batch.utf8), format: .ndjson) { expected.add(event) }
        }

        for (index, batch) in batches.enumerated() {
            // Six copies at once with one key, three to each node: as a client that timed out and retried.
            let answers = try await withThrowingTaskGroup(of: Posted.self) { group in
                for copy in 0..<6 {
                    group.addTask { try await Self.post(bases[copy % 2], batch, key: "batch-\(index)", client: client) }
                }
                return try await group.reduce(into: [Posted]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.status == 202 && $0.body.contains("\"accepted\":50") }, "\(answers.map { ($0.status, $0.body) })")
            #expect(answers.filter(\.replayed).count == 5, "exactly one copy is stored, the others are replays")
        }
        // Late retries, long after the first answers, on the other node.
        for index in stride(from: 0, to: batches.count, by: 7) {
            let late = try await Self.post(bases[1], batches[index], key: "batch-\(index)", client: client)
            #expect(late.status == 202 && late.replayed)
        }
        // A key reused with another body: 422, and nothing of it is stored.
        let reused = try await Self.post(bases[0], generator.batch(10), key: "batch-3", client: client)
        #expect(reused.status == 422, "\(reused.body)")
        #expect(reused.body.contains("different body"))

        let totals = try await Self.settledTotals(redis)
        #expect(totals == expected, "stored \(totals), expected \(expected)")

        await Self.stop(processes)
        await redis.stop()
    }

    @Test func eventsResentWithTheirIDsAreStoredOnceUnderDedupe() async throws {
        let redis = try await RedisServer.start()
        let (bases, processes) = try await Self.twoNodes(redis: redis.url, arguments: ["--dedupe-window", "600"])
        let client = HTTPClient.shared

        // 2,000 events with client ids, sent in overlapping windows of 100 (every event twice or more),
        // alternately to either node and without any Idempotency-Key.
        var generator = SessionEventGenerator(sessions: 40, seed: 97)
        let lines = (0..<2000).map { index in "{\"id\":\"ev-\(index)\"," + generator.next().dropFirst() }
        let decoder = EventDecoder()
        let expected = ExactTotals(try decoder.decodeBatch(Array(lines.joined(separator: "\n").utf8), format: .ndjson))
        var acknowledged = 0
        var deduplicated = 0
        for (step, start) in stride(from: 0, to: lines.count, by: 50).enumerated() {
            let window = lines[start..<min(start + 100, lines.count)]
            let answers = try await withThrowingTaskGroup(of: Posted.self) { group in
                for copy in 0..<2 {
                    group.addTask { try await Self.post(bases[(step + copy) % 2], window.joined(separator: "\n"), client: client) }
                }
                return try await group.reduce(into: [Posted]()) { $0.append($1) }
            }
            for answer in answers {
                #expect(answer.status == 202, "\(answer.body)")
                let json = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any] ?? [:]
                acknowledged += json["accepted"] as? Int ?? 0
                deduplicated += json["deduplicated"] as? Int ?? 0
            }
        }
        #expect(acknowledged - deduplicated == lines.count, "acknowledged \(acknowledged), deduplicated \(deduplicated)")
        let totals = try await Self.settledTotals(redis)
        #expect(totals == expected, "stored \(totals), expected \(expected)")

        await Self.stop(processes)
        await redis.stop()
    }

    @Test func anOutageAnswers503FastStoresNothingRefusedAndRecoversByItself() async throws {
        let redis = try await RedisServer.start()
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient.shared
        // Deadlines far above the bound below: an answer within it comes from failing fast, not from a timeout.
        let serve = try ServeProcessTests.startServe(port: port, redis: redis.url,
                                                     arguments: ["--workers", "1", "--append-timeout", "10", "--redis-lease-timeout", "10"])
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))
        let probe = #"{"type":"error","session_id":"probe","code":"probe"}"#

        await redis.kill()
        // 40 concurrent posts while Redis is down: each is answered 503 with Retry-After, fast.
        let refused = try await withThrowingTaskGroup(of: Posted.self) { group in
            for _ in 0..<40 { group.addTask { try await Self.post(base, probe, client: client) } }
            return try await group.reduce(into: [Posted]()) { $0.append($1) }
        }
        for answer in refused {
            #expect(answer.status == 503 && answer.retryAfter == "1", "\(answer.status) \(answer.body)")
            // 2 s on a quiet machine (the benchmark measures p99 in milliseconds); the whole suite shares two cores here.
            #expect(answer.seconds < 5, "answered after \(answer.seconds) s")
        }
        // Probes keep coming while Redis is away and after it returns; count what was acknowledged.
        try await redis.restart()
        var accepted = 0
        var refusedLater = 0
        let recovered = try await eventually(seconds: 20) {
            let answer = try await Self.post(base, probe, client: client)
            return answer.status == 202
        }
        #expect(recovered, "the node must accept again by itself once Redis is back")
        if recovered { accepted += 1 }
        for _ in 0..<50 {
            let answer = try await Self.post(base, probe, client: client)
            if answer.status == 202 { accepted += 1 } else { refusedLater += 1 }
        }
        #expect(refusedLater == 0)
        // The restarted server kept nothing from before: what it holds is exactly what was acknowledged since.
        let totals = try await Self.settledTotals(redis)
        #expect(totals.errors["probe"] == Double(accepted), "stored \(totals.errors["probe"] ?? 0) probes, acknowledged \(accepted)")

        serve.terminate()
        await serve.exited()
        await redis.stop()
    }

    @Test func anAppendWhoseOutcomeIsUnknownIsSafeToRetryWithItsKey() async throws {
        let redis = try await RedisServer.start()
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient.shared
        let serve = try ServeProcessTests.startServe(port: port, redis: redis.url, arguments: ["--workers", "1", "--append-timeout", "1"])
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))
        var generator = SessionEventGenerator(sessions: 10, seed: 5)
        let batch = generator.batch(40)
        let expected = ExactTotals(try EventDecoder().decodeBatch(Array(batch.utf8), format: .ndjson))
        #expect(try await Self.post(base, generator.batch(5), client: client).status == 202)  // connections are open

        // A server that hangs: the append is sent and never answered within the deadline.
        redis.pause()
        let unknown = try await Self.post(base, batch, key: "hung-batch", client: client)
        #expect(unknown.status == 503 && unknown.retryAfter == "1", "\(unknown.body)")
        #expect(unknown.body.contains("\"outcome\":\"unknown\""), "\(unknown.body)")
        // The 1 s append deadline answered (its DeadlineExceeded), not a command timeout nor the
        // paused server; the message says so, where a wall-clock bound would not hold on a machine
        // the whole suite loads (it took 8.9 s there once).
        #expect(unknown.body.contains("no answer within 1.0 seconds"), "\(unknown.body)")
        redis.resume()

        // The client retries with the same key until it is answered: the batch is stored once,
        // whether or not the first attempt reached the log.
        var answer = unknown
        for _ in 0..<100 where answer.status != 202 {
            try await Task.sleep(for: .milliseconds(200))
            answer = try await Self.post(base, batch, key: "hung-batch", client: client)
        }
        #expect(answer.status == 202 && answer.body.contains("\"accepted\":40"), "\(answer.body)")
        var totals = try await Self.settledTotals(redis)
        // Subtract the 5 warm-up events, computed the same way.
        var warmUp = SessionEventGenerator(sessions: 10, seed: 5)
        _ = warmUp.batch(40)
        let warm = ExactTotals(try EventDecoder().decodeBatch(Array(warmUp.batch(5).utf8), format: .ndjson))
        totals.subtract(warm)
        #expect(totals == expected, "stored \(totals), expected \(expected)")

        serve.terminate()
        await serve.exited()
        await redis.stop()
    }
}
