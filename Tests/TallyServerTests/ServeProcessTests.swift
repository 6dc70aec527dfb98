import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TallyTesting

/// `tally serve` and `tally loadgen` as real processes over loopback.
@Suite struct ServeProcessTests {
    /// The `tally` executable built next to the tests.
    static var tallyPath: String {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = folder.appendingPathComponent("tally").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return ".build/debug/tally"
    }

    /// A port free right now (the kernel's pick, never one of a local cluster's).
    static func freePort() -> Int {
        LocalPorts.free()
    }

    static func startServe(port: Int, redis: String? = nil, arguments extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tallyPath)
        process.arguments = ["serve", "--port", String(port)] + (redis.map { ["--redis", $0] } ?? []) + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runTracked()
        return process
    }

    /// `tally serve` on the embedded backend at a free port, answering; with a client for it.
    static func runningServe() async throws -> (process: Process, base: String, client: HTTPClient) {
        let port = Self.freePort()
        let base = "http://127.0.0.1:\(port)"
        let serve = try Self.startServe(port: port)
        let client = HTTPClient.shared
        #expect(try await Self.waitUntilUp(base, client: client))
        return (serve, base, client)
    }

    static func get(_ url: String, client: HTTPClient) async throws -> (status: Int, body: String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), String(buffer: body))
    }

    /// Whether `/health/live` answers 200 within `limit`; each probe gives up after 2 s, so a
    /// listener that never answers HTTP costs the limit, not minutes.
    static func waitUntilUp(_ base: String, client: HTTPClient, within limit: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let response = try? await client.execute(HTTPClientRequest(url: base + "/health/live"), timeout: .seconds(2)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
                if response.status == .ok { return true }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    static func metricsJSON(_ base: String, client: HTTPClient) async throws -> [String: Any] {
        let (_, body) = try await Self.get(base + "/v1/metrics", client: client)
        return (try JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    /// Total tool calls, completions and errors the node has applied.
    static func appliedCounts(_ json: [String: Any]) -> Double {
        let tools = (json["toolCalls"] as? [String: [String: Double]] ?? [:]).values.reduce(0.0) { $0 + ($1["success"] ?? 0) + ($1["failure"] ?? 0) }
        let errors = (json["clientErrors"] as? [String: Double] ?? [:]).values.reduce(0, +)
        return tools + errors + (json["completions"] as? Double ?? 0)
    }

    @Test func loadgenEventsAreAllCountedAndSigtermExitsCleanly() async throws {
        let (serve, base, client) = try await Self.runningServe()
        defer { if serve.isRunning { serve.terminate() } }

        let loadgen = try await ExternalTool.run(Self.tallyPath, ["loadgen", "--url", base, "--rate", "2000", "--duration", "2", "--seed", "42"])
        #expect(loadgen.status == 0, "\(loadgen.stderr)")
        #expect(loadgen.stdout.contains("accepted 4000"), "\(loadgen.stdout)")

        // The same seed gives the same events, so the generator's own count is the truth.
        var generator = SessionEventGenerator(sessions: 100, seed: 42)
        let expected = (0..<4000).map { _ in generator.next() }.filter { !$0.contains("\"type\":\"session_") }.count
        let counted = try await eventually { Self.appliedCounts(try await Self.metricsJSON(base, client: client)) == Double(expected) }
        let applied = Self.appliedCounts(try await Self.metricsJSON(base, client: client))
        #expect(counted, "expected \(expected) completions, tool calls and errors, applied \(applied)")

        let (status, text) = try await Self.get(base + "/metrics", client: client)
        #expect(status == 200)
        let problems = try await ExpositionCheckers.promtoolProblems(Array(text.utf8))
        #expect(problems.isEmpty, "\(problems)")

        serve.terminate()  // SIGTERM
        await serve.exited()
        #expect(serve.terminationStatus == 0)
    }

    @Test func everyAcceptedEventIsCountedAcrossASigtermDuringLoad() async throws {
        let redis = try await RedisServer.start()
        let port = Self.freePort()
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient.shared
        let first = try Self.startServe(port: port, redis: redis.url)
        #expect(try await Self.waitUntilUp(base, client: client))

        async let load = ExternalTool.run(Self.tallyPath, ["loadgen", "--url", base, "--rate", "3000", "--duration", "3", "--seed", "9"])
        try await Task.sleep(for: .milliseconds(1500))
        first.terminate()  // SIGTERM in the middle of the load
        await first.exited()
        #expect(first.terminationStatus == 0)
        let summary = try await load.stdout
        let accepted = summary.split(separator: ";").compactMap { part -> Int? in
            let words = part.split(separator: " ")
            guard let index = words.firstIndex(of: "accepted"), index + 1 < words.count else { return nil }
            return Int(words[index + 1])
        }.first ?? -1
        #expect(accepted > 0, "\(summary)")

        // A second node on the same Redis finishes whatever the first left pending.
        let second = try Self.startServe(port: port, redis: redis.url)
        defer { if second.isRunning { second.terminate() } }
        #expect(try await Self.waitUntilUp(base, client: client))
        // What the log holds is what was accepted: one stream entry per 202-acknowledged event.
        let stream = try await ExternalTool.run(
            ExternalTool.locate("redis-cli") ?? "/usr/bin/redis-cli", ["-p", String(redis.port), "XRANGE", "{tally}:events", "-", "+"]
        )
        let stored = stream.stdout.split(separator: "\n").filter { $0.contains("\"type\":") }
        #expect(stored.count == accepted, "the log holds \(stored.count) events, loadgen saw \(accepted) accepted")
        let expected = stored.filter { !$0.contains("\"type\":\"session_") }.count
        // A batch the first node had read but not committed when it stopped is claimed by the second
        // once it has been idle for the claim timeout (30 s), so wait past that.
        let counted = try await eventually(seconds: 60) {
            Self.appliedCounts(try await Self.metricsJSON(base, client: client)) == Double(expected)
        }
        let applied = Self.appliedCounts(try await Self.metricsJSON(base, client: client))
        #expect(counted, "expected \(expected) applied events of \(accepted) accepted, applied \(applied)")
        second.terminate()
        await second.exited()
        await redis.stop()
    }

    @Test func anUnreachableRedisOrABadFlagGivesAClearErrorAndANonZeroExit() async throws {
        let unreachable = try await ExternalTool.run(Self.tallyPath, ["serve", "--port", "18099", "--redis", "redis://user:secret@127.0.0.1:1"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("cannot reach Redis at redis://***@127.0.0.1:1"), "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains("secret"), "the password must not be printed")
        let badPort = try await ExternalTool.run(Self.tallyPath, ["serve", "--port", "70000"])
        #expect(badPort.status != 0)
        #expect(badPort.stderr.contains("--port must be 1…65535"), "\(badPort.stderr)")
        // Numbers no duration can hold are refused with their option named, never a crash.
        for (option, value) in [("--append-timeout", "nan"), ("--idempotency-window", "inf"), ("--redis-lease-timeout", "1e300"), ("--score-period", "-inf")] {
            let hostile = try await ExternalTool.run(Self.tallyPath, ["serve", option, value])
            #expect(hostile.status == 64, "\(option) \(value): exit \(hostile.status)")
            #expect(hostile.stderr.contains(option), "\(hostile.stderr)")
        }
        let hostileClaim = try await ExternalTool.run(Self.tallyPath, ["worker", "--redis", "redis://127.0.0.1:1", "--claim-idle", "inf"])
        #expect(hostileClaim.status == 64 && hostileClaim.stderr.contains("--claim-idle"), "\(hostileClaim.stderr)")
        let unknown = try await ExternalTool.run(Self.tallyPath, ["serve", "--bogus"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("--bogus"), "\(unknown.stderr)")
        let workerWithoutRedis = try await ExternalTool.run(Self.tallyPath, ["worker"])
        #expect(workerWithoutRedis.status != 0)
        #expect(workerWithoutRedis.stderr.contains("--redis is required"), "\(workerWithoutRedis.stderr)")
        let badMetricsPort = try await ExternalTool.run(Self.tallyPath, ["worker", "--redis", "redis://127.0.0.1:1", "--metrics-port", "70000"])
        #expect(badMetricsPort.status != 0)
        #expect(badMetricsPort.stderr.contains("--metrics-port must be 0 (off) or a TCP port"), "\(badMetricsPort.stderr)")
    }

    /// Resident memory of a process, from /proc/PID/statm.
    static func residentBytes(of pid: Int32) -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
        let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func memoryStaysFlatAcrossTenThousandBadRequests() async throws {
        let (serve, base, client) = try await Self.runningServe()
        defer { if serve.isRunning { serve.terminate() } }
        let bodies = ["{", "[]", #"{"type":"nap","session_id":"s"}"#, #"{"type":"completion","session_id":"s","latency_ms":-1,"accepted":true}"#]
        func send(_ count: Int) async throws -> Int {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        var refused = 0
                        for i in stride(from: lane, to: count, by: 8) {
                            var request = HTTPClientRequest(url: base + "/v1/events")
                            request.method = .POST
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(string: bodies[i % bodies.count]))
                            let response = try await client.execute(request, timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 16)
                            if response.status.code == 400 { refused += 1 }
                        }
                        return refused
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        _ = try await send(2_000)  // warm-up: buffers, rings and caches reach their size
        let before = Self.residentBytes(of: serve.processIdentifier)
        let refused = try await send(10_000)
        let growth = Self.residentBytes(of: serve.processIdentifier) - before
        #expect(refused == 10_000)
        #expect(growth < 8 << 20, "tally serve grew by \(growth >> 10) KiB over 10,000 bad requests")
        let (status, _) = try await Self.get(base + "/health/live", client: client)
        #expect(status == 200)
        serve.terminate()
        await serve.exited()
    }
}
