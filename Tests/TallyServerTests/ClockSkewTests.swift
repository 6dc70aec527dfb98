import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TallyMetrics
import TallyPipeline
import TallyRedis
import TallyTesting

/// Node clocks disagree in real deployments. One ingest node 120 s slow and three `tally worker`
/// processes 220 s fast, 220 s slow and 120 s slow (libfaketime) must give every derived value the
/// exact offline computation gives: Redis's clock alone decides the window, session expiry and ages.
///
/// Only the wall clock is skewed: `scripts/support/timerfd-passthrough.c`, compiled here and
/// preloaded before libfaketime, keeps libfaketime from moving the monotonic timers Swift sleeps on.
@Suite(.serialized) struct ClockSkewTests {
    static let faketime = "/usr/bin/faketime"

    /// The timerfd pass-through, compiled once per test run with the first C compiler found.
    static let passthrough: String? = {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/support/timerfd-passthrough.c").path
        let output = NSTemporaryDirectory() + "tally-timerfd-passthrough-\(ProcessInfo.processInfo.processIdentifier).so"
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for compiler in ["clang", "cc", "gcc"] {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(compiler)") {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "\(dir)/\(compiler)")
                process.arguments = ["-shared", "-fPIC", "-O2", "-o", output, source]
                guard (try? process.run()) != nil else { continue }
                process.waitUntilExit()
                if process.terminationStatus == 0 { return output }
            }
        }
        return nil
    }()

    /// `tally <arguments>` with its wall clock moved by `offset` (e.g. "+220s").
    static func startSkewed(_ offset: String, _ arguments: [String], passthrough: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: faketime)
        process.arguments = ["-m", "--exclude-monotonic", "-f", offset, ServeProcessTests.tallyPath] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = passthrough  // faketime puts its library after it
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runTracked()
        return process
    }

    /// SIGTERM to the program faketime runs (faketime does not pass signals on), then waits for both.
    static func stop(_ processes: [Process]) async {
        for process in processes where process.isRunning {
            let children = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
        }
        for process in processes {
            let killAt = ContinuousClock.now + .seconds(10)
            while process.isRunning {
                if ContinuousClock.now > killAt {
                    let children = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children", encoding: .utf8)) ?? ""
                    for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGKILL) }
                    kill(process.processIdentifier, SIGKILL)
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// One generated event, kept as the offline computation needs it.
    struct Event {
        var json: String
        var type: String
        var session: String
        var ts: Double
        var latencyMilliseconds = 0.0
        var accepted = false
        var tool = ""
        var success = false
        var code = ""
    }

    /// Sessions of events spread over the last 150 s (real time), some of them ended.
    static func events(now: Double, count: Int) -> [Event] {
        var random = SeededRandom(seed: 2212)
        var events: [Event] = []
        let tools = ["grep", "edit", "run_tests", "read_file"]
        for i in 0..<count {
            let session = "skew-\(random.next() % 40)"
            let ts = ((now - 150 + 149 * random.unit()) * 1000).rounded() / 1000
            let roll = random.unit()
            var event = Event(json: "", type: "", session: session, ts: ts)
            let base = #""id":"e\#(i)","session_id":"\#(session)","ts":\#(ts)"#
            if roll < 0.5 {
                event.type = "completion"
                event.latencyMilliseconds = Double(20 + random.next() % 3000)
                event.accepted = random.unit() < 0.4
                event.json = #"{"type":"completion",\#(base),"latency_ms":\#(Int(event.latencyMilliseconds)),"accepted":\#(event.accepted)}"#
            } else if roll < 0.9 {
                event.type = "tool_call"
                event.tool = tools[Int(random.next() % UInt64(tools.count))]
                event.success = random.unit() < 0.8
                event.json = #"{"type":"tool_call",\#(base),"tool":"\#(event.tool)","success":\#(event.success)}"#
            } else if roll < 0.97 {
                event.type = "error"
                event.code = ["timeout", "rate_limited"][Int(random.next() % 2)]
                event.json = #"{"type":"error",\#(base),"code":"\#(event.code)"}"#
            } else {
                event.type = "session_end"
                event.json = #"{"type":"session_end",\#(base)}"#
            }
            events.append(event)
        }
        return events
    }

    /// What the events must produce, computed here from the events alone.
    struct Offline {
        var window = WindowSnapshot()
        var latency = QuantileSketch()
        var tools: [String: OutcomeCounts] = [:]
        var codes: [String: Double] = [:]
        var sessions: [String: (first: Double, last: Double, calls: Double, ended: Bool)] = [:]

        init(_ events: [Event]) {
            for e in events {
                var s = sessions[e.session] ?? (e.ts, e.ts, 0, false)
                s.first = min(s.first, e.ts)
                s.last = max(s.last, e.ts)
                switch e.type {
                case "completion":
                    window.completions += 1
                    if e.accepted { window.accepted += 1 }
                    latency.add(e.latencyMilliseconds / 1000)
                case "tool_call":
                    tools[e.tool, default: OutcomeCounts()] = tools[e.tool, default: OutcomeCounts()] + (e.success ? OutcomeCounts(success: 1) : OutcomeCounts(failure: 1))
                    s.calls += 1
                case "error":
                    codes[e.code, default: 0] += 1
                case "session_end":
                    s.ended = true
                default:
                    break
                }
                sessions[e.session] = s
            }
            window.latency = latency
            window.toolCalls = tools
        }

        var live: [(first: Double, last: Double, calls: Double, ended: Bool)] { sessions.values.filter { !$0.ended } }

        var toolsPerMinute: QuantileSketch {
            var sketch = QuantileSketch()
            for s in live { sketch.add(s.calls / max((s.last - s.first) / 60, 1)) }
            return sketch
        }
    }

    @Test func skewedNodesAndWorkersGiveTheExactOfflineNumbers() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.faketime) else {
            Issue.record("faketime is not installed (scripts/test installs Debian's faketime)")
            return
        }
        let passthrough = try #require(Self.passthrough, "no C compiler could build scripts/support/timerfd-passthrough.c")
        let redis = try await RedisServer.start()
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        var processes = [try Self.startSkewed("-120s", ["serve", "--port", String(port), "--redis", redis.url, "--workers", "0"], passthrough: passthrough)]
        for offset in ["+220s", "-220s", "-120s"] {
            processes.append(try Self.startSkewed(offset, ["worker", "--redis", redis.url, "--concurrency", "2"], passthrough: passthrough))
        }
        let client = HTTPClient.shared
        let started = processes
        defer { Task { await Self.stop(started) } }
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))

        // The node's clock is really 120 s behind (its Date header says so).
        let probe = try await client.execute(HTTPClientRequest(url: base + "/health/live"), timeout: .seconds(10))
        if let header = probe.headers.first(name: "Date") {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            let skew = try #require(formatter.date(from: header)).timeIntervalSinceNow
            #expect(skew < -100 && skew > -140, "the node's clock is \(skew) s off, not -120 s")
        }

        let now = Date().timeIntervalSince1970
        let events = Self.events(now: now, count: 3000)
        for start in stride(from: 0, to: events.count, by: 250) {
            var request = HTTPClientRequest(url: base + "/v1/events")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-ndjson")
            request.body = .bytes(ByteBuffer(string: events[start..<min(start + 250, events.count)].map(\.json).joined(separator: "\n")))
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            #expect(response.status.code == 202)
        }

        let offline = Offline(events)
        let live = offline.live
        // Drained, and the leader (on the slow node) has counted the sessions since.
        @Sendable func read() async throws -> DerivedMetrics {
            let (_, body) = try await ServeProcessTests.get(base + "/v1/metrics", client: client)
            return try JSONDecoder().decode(DerivedMetrics.self, from: Data(body.utf8))
        }
        let settled = try await eventually(seconds: 60) {
            let metrics = try await read()
            guard let log = metrics.log else { return false }
            let meanCalls = live.map(\.calls).reduce(0, +) / Double(live.count)
            return log.lag == 0 && log.pending == 0 && metrics.completions == offline.window.completions
                && metrics.activeSessions == live.count && abs((metrics.meanSessionToolCalls ?? -1) - meanCalls) < 1e-9
        }
        #expect(settled)
        let metrics = try await read()
        #expect(metrics.completions == offline.window.completions)
        #expect(metrics.acceptanceRatio == offline.window.accepted / offline.window.completions)
        #expect(metrics.completionLatencySeconds.p50 == offline.latency.quantile(0.5))
        #expect(metrics.completionLatencySeconds.p99 == offline.latency.quantile(0.99))
        #expect(metrics.toolCalls == offline.tools)
        #expect(metrics.toolSuccessRatio == offline.tools.compactMapValues(\.successRatio))
        #expect(metrics.clientErrors == offline.codes)
        #expect(metrics.activeSessions == live.count)
        #expect(metrics.sessionToolsPerMinute.p50 == offline.toolsPerMinute.quantile(0.5))
        #expect(metrics.sessionToolsPerMinute.p90 == offline.toolsPerMinute.quantile(0.9))
        let meanCalls = live.map(\.calls).reduce(0, +) / Double(live.count)
        let meanDuration = live.map { $0.last - $0.first }.reduce(0, +) / Double(live.count)
        #expect(abs(try #require(metrics.meanSessionToolCalls) - meanCalls) < 1e-9)
        #expect(abs(try #require(metrics.meanSessionDurationSeconds) - meanDuration) < 1e-6)
        #expect(metrics.log?.deadLetters == 0)
        // The score: written by the slow node's leader on Redis's clock, so young and exact.
        let scored = try await eventually(seconds: 40) {
            let m = try await read()
            guard let score = m.productivityScore, let expected = ScoreFormula.default.score(for: offline.window) else { return false }
            return abs(score - expected) < 1e-9 && (m.productivityScoreAgeSeconds ?? 99) < 40
        }
        #expect(scored, "the score is \(String(describing: metrics.productivityScore)), offline \(String(describing: ScoreFormula.default.score(for: offline.window)))")

        await Self.stop(processes)
        await redis.stop()
    }
}
