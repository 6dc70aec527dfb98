import AsyncHTTPClient
import Foundation
import Testing
import TallyTesting

/// `tally serve --redis` and `tally worker` check the Redis server before they start: an evicting
/// `maxmemory-policy` is refused with one line unless eviction is allowed.
@Suite struct StartupChecksTests {
    /// What a `tally` run printed, and how it ended (nil status: still running at its limit).
    struct Run {
        var status: Int32?
        var stderr: String
        var stdout: String
    }

    /// Runs `tally` with `arguments` and waits up to `limit` for it to exit; nil status if it did not.
    static func runTally(_ arguments: [String], environment extra: [String: String] = [:], limit: Duration = .seconds(60)) async throws -> Run {
        let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("tally-stderr-\(UUID().uuidString)").path
        let outputPath = errorPath.replacingOccurrences(of: "tally-stderr-", with: "tally-stdout-")
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: errorPath)
            try? FileManager.default.removeItem(atPath: outputPath)
        }
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeProcessTests.tallyPath)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardOutput = output
        process.standardError = errors
        try process.runTracked()
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let exited = !process.isRunning
        if !exited {
            process.terminate()
            await process.exited()
        }
        try errors.close()
        try output.close()
        return Run(status: exited ? process.terminationStatus : nil, stderr: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "",
                   stdout: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    static func expectOneClearRefusal(_ result: Run, _ command: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != nil, "\(command) kept running on an evicting Redis", sourceLocation: sourceLocation)
        #expect(result.status != 0, "\(command) exited 0 on an evicting Redis", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(lines.count == 1, "\(command) printed:\n\(result.stderr)", sourceLocation: sourceLocation)
        let line = lines.first.map(String.init) ?? ""
        #expect(line.hasPrefix("tally: ") && line.contains("maxmemory-policy is 'allkeys-lru'") && line.contains("--allow-eviction"),
                "\(command): \(line)", sourceLocation: sourceLocation)
    }

    @Test func aNodeWithAnotherWindowThanTheStateIsRefused() async throws {
        try await withRedisServer { redis in
            // The first node records the settings; its peers must share them.
            let first = try await Self.runTally(["worker", "--redis", redis.url, "--window", "300"], limit: .seconds(4))
            #expect(first.status == nil, "the first worker exited: \(first.stderr)")
            let stored = try await ExternalTool.run(ExternalTool.locate("redis-cli") ?? "/usr/bin/redis-cli", ["-p", String(redis.port), "GET", "{tally}:settings"])
            #expect(stored.stdout.contains("window_seconds=300 bucket_seconds=10"), "\(stored.stdout)")
            for command in [["worker", "--redis", redis.url, "--window", "600"],
                            ["serve", "--port", String(ServeProcessTests.freePort()), "--redis", redis.url, "--window", "600"]] {
                let result = try await Self.runTally(command)
                #expect(result.status != nil && result.status != 0, "\(command[0]) started with another window")
                let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                #expect(lines.count == 1 && lines[0].contains("window_seconds=300") && lines[0].contains("window_seconds=600")
                        && lines[0].contains("same --window"), "\(command[0]): \(result.stderr)")
            }
            // The same window starts (and the environment variable is read).
            let same = try await Self.runTally(["worker", "--redis", redis.url], environment: ["TALLY_WINDOW": "300"], limit: .seconds(4))
            #expect(same.status == nil, "a worker with the same window exited: \(same.stderr)")
        }
    }

    @Test func anEvictingRedisIsRefusedByServeAndWorkerUnlessEvictionIsAllowed() async throws {
        try await withRedisServer(extraArguments: ["--maxmemory-policy", "allkeys-lru"]) { redis in
            let port = ServeProcessTests.freePort()
            Self.expectOneClearRefusal(try await Self.runTally(["serve", "--port", String(port), "--redis", redis.url]), "tally serve")
            Self.expectOneClearRefusal(try await Self.runTally(["worker", "--redis", redis.url]), "tally worker")
            // Nothing was created on the refused server.
            let keys = try await ExternalTool.run(ExternalTool.locate("redis-cli") ?? "/usr/bin/redis-cli", ["-p", String(redis.port), "DBSIZE"])
            #expect(keys.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(keys.stdout)")

            // Allowed (by the flag, or by the environment): both start and stay up.
            let client = HTTPClient.shared
            let serve = try ServeProcessTests.startServe(port: port, redis: redis.url, arguments: ["--allow-eviction"])
            #expect(try await ServeProcessTests.waitUntilUp("http://127.0.0.1:\(port)", client: client))
            let metricsPort = ServeProcessTests.freePort()
            let worker = Process()
            worker.executableURL = URL(fileURLWithPath: ServeProcessTests.tallyPath)
            worker.arguments = ["worker", "--redis", redis.url, "--metrics-port", String(metricsPort)]
            worker.environment = ProcessInfo.processInfo.environment.merging(["TALLY_ALLOW_EVICTION": "1"]) { $1 }
            worker.standardOutput = FileHandle.nullDevice
            worker.standardError = FileHandle.nullDevice
            try worker.runTracked()
            #expect(try await ServeProcessTests.waitUntilUp("http://127.0.0.1:\(metricsPort)", client: client))
            for process in [serve, worker] {
                #expect(process.isRunning)
                process.terminate()
                await process.exited()
                #expect(process.terminationStatus == 0)
            }
        }
    }

    /// The shard and durability options are checked before anything connects: one usage error each.
    @Test func shardAndDurabilityOptionsOutOfRangeAreRefusedBeforeConnecting() async throws {
        let unreachable = "redis://127.0.0.1:1"
        let cases: [([String], String)] = [
            (["serve", "--redis", unreachable, "--durability", "maybe"], "--durability must be local or replicated, got maybe"),
            (["serve", "--durability", "replicated"], "--durability replicated needs --redis"),
            (["serve", "--redis", unreachable, "--durability", "replicated", "--durability-wait", "inf"], "--durability-wait"),
            (["worker", "--redis", unreachable, "--shards", "0"], "--shards must be from 1 to 256, got 0"),
            (["shards", "--redis", unreachable, "--shards", "300"], "--shards must be from 1 to 256, got 300"),
            (["dlq", "list", "--redis", unreachable, "--shards", "3", "--shard", "3"], "--shard must be from 0 to 2, got 3"),
        ]
        for (arguments, message) in cases {
            let run = try await Self.runTally(arguments, limit: .seconds(20))
            #expect(run.status != nil && run.status != 0, "\(arguments) exited \(String(describing: run.status))")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }
}
