import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import TallyCore
import TallyMetrics
import TallyServer
import TallyLoad

struct LoadGen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Send realistic sessions to a Tally node at a target rate, in NDJSON batches."
    )

    @Option(help: "Base URL of the node (TALLY_URL).")
    var url = environment("URL") ?? "http://127.0.0.1:8080"

    @Option(help: "Target events per second (TALLY_RATE).")
    var rate = Int(environment("RATE") ?? "") ?? 1_000

    @Option(help: "Seconds to run (TALLY_DURATION).")
    var duration = Double(environment("DURATION") ?? "") ?? 10

    @Option(help: "Sessions open at once (TALLY_SESSIONS).")
    var sessions = Int(environment("SESSIONS") ?? "") ?? 100

    @Option(help: "Seed; the same seed sends the same events (TALLY_SEED).")
    var seed = UInt64(environment("SEED") ?? "") ?? 1

    @Option(help: "Events per request (TALLY_BATCH).")
    var batch = Int(environment("BATCH") ?? "") ?? 100

    @Option(help: "Bearer token (TALLY_TOKEN).")
    var token = environment("TOKEN") ?? ""

    @Flag(help: "Send an Idempotency-Key with every request (unique per request), as a client that may retry does.")
    var idempotencyKeys = false

    @Flag(name: .customLong("event-ids"), help: "Give every event a client id (unique per event), which a node with --dedupe-window checks.")
    var eventIDs = false

    func validate() throws {
        guard URL(string: self.url)?.host != nil else { throw ValidationError("--url '\(self.url)' is not a URL like http://127.0.0.1:8080") }
        guard self.rate >= 1 else { throw ValidationError("--rate must be at least 1") }
        guard try optionDuration(seconds: self.duration, option: "--duration") > .zero else { throw ValidationError("--duration must be positive") }
        guard (1...10_000).contains(self.batch) else { throw ValidationError("--batch must be 1…10000") }
        guard self.sessions >= 1 else { throw ValidationError("--sessions must be at least 1") }
    }

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let stats = LoadStats()
        var generator = SessionEventGenerator(sessions: self.sessions, seed: self.seed)
        let endpoint = self.url.hasSuffix("/") ? self.url + "v1/events" : self.url + "/v1/events"
        let interval = Duration.seconds(Double(self.batch) / Double(self.rate))
        let start = ContinuousClock.now
        let end = start + (try optionDuration(seconds: self.duration, option: "--duration"))
        var next = start
        var lastProgress = start
        var requestNumber = 0
        var eventNumber = 0
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            while ContinuousClock.now < end {
                if inFlight >= 8 {
                    await group.next()
                    inFlight -= 1
                }
                let body: String
                if self.eventIDs {
                    var lines = ""
                    for _ in 0..<self.batch {
                        eventNumber += 1
                        lines += "{\"id\":\"lg-\(self.seed)-\(eventNumber)\"," + generator.next().dropFirst() + "\n"
                    }
                    body = lines
                } else {
                    body = generator.batch(self.batch)
                }
                requestNumber += 1
                var request = HTTPClientRequest(url: endpoint)
                if self.idempotencyKeys { request.headers.add(name: "Idempotency-Key", value: "lg-\(self.seed)-\(requestNumber)") }
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-ndjson")
                if !self.token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(self.token)") }
                request.body = .bytes(ByteBuffer(string: body))
                let events = self.batch
                inFlight += 1
                group.addTask {
                    let sent = ContinuousClock.now
                    do {
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        stats.record(status: Int(response.status.code), events: events, seconds: (ContinuousClock.now - sent).secondsValue)
                    } catch {
                        stats.recordFailure(events: events)
                    }
                }
                next += interval
                let now = ContinuousClock.now
                if now - lastProgress >= .seconds(1) {
                    lastProgress = now
                    FileHandle.standardError.write(Data(("\r" + stats.progress(elapsed: (now - start).secondsValue)).utf8))
                }
                if next > now { try? await Task.sleep(until: next, clock: .continuous) }
            }
        }
        try await client.shutdown()
        FileHandle.standardError.write(Data("\n".utf8))
        print(stats.summary(elapsed: (ContinuousClock.now - start).secondsValue))
        if stats.acceptedEvents == 0 { throw ExitCode.failure }
    }
}

/// Counts what the load generator sent and how the node answered.
final class LoadStats: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int: Int] = [:]
    private var accepted = 0
    private var sent = 0
    private var failures = 0
    private var latencies = QuantileSketch()

    var acceptedEvents: Int { self.lock.withLock { self.accepted } }

    func record(status: Int, events: Int, seconds: Double) {
        self.lock.withLock {
            self.statuses[status, default: 0] += 1
            self.sent += events
            if status == 202 { self.accepted += events }
            self.latencies.add(seconds)
        }
    }

    func recordFailure(events: Int) {
        self.lock.withLock {
            self.failures += 1
            self.sent += events
        }
    }

    func progress(elapsed: Double) -> String {
        self.lock.withLock {
            let errors = self.failures + self.statuses.filter { $0.key != 202 }.values.reduce(0, +)
            return String(format: "rate %.0f ev/s  sent %d  accepted %d  errors %d", Double(self.accepted) / max(elapsed, 0.001), self.sent, self.accepted, errors)
        }
    }

    func summary(elapsed: Double) -> String {
        self.lock.withLock {
            let statuses = self.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            return """
            sent \(self.sent) events in \(String(format: "%.1f", elapsed)) s; accepted \(self.accepted) (\(String(format: "%.0f", Double(self.accepted) / max(elapsed, 0.001))) ev/s)
            responses: \(statuses.isEmpty ? "none" : statuses); transport failures: \(self.failures)
            request latency p50 \(Self.milliseconds(self.latencies.quantile(0.5))) ms, p99 \(Self.milliseconds(self.latencies.quantile(0.99))) ms
            """
        }
    }

    private static func milliseconds(_ seconds: Double?) -> String {
        seconds.map { String(format: "%.2f", $0 * 1000) } ?? "n/a"
    }
}
