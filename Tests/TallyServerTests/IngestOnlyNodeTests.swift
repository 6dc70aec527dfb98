import AsyncHTTPClient
import Foundation
import NIOCore
import TallyTesting
import Testing

/// `tally serve --workers 0`: a real ingest-only process on a real Redis.
@Suite struct IngestOnlyNodeTests {
    static func health(_ base: String, client: HTTPClient) async throws -> (status: Int, json: [String: Any]) {
        let (status, body) = try await ServeProcessTests.get(base + "/health", client: client)
        return (status, (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:])
    }

    @Test func anIngestOnlyNodeIsReadyOnItsLogAloneAndAWorkerProcessAppliesWhatItAccepts() async throws {
        let redis = try await RedisServer.start()
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: ServeProcessTests.tallyPath)
        serve.arguments = ["serve", "--port", String(port), "--redis", redis.url, "--workers", "0"]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.runTracked()
        let client = HTTPClient.shared
        var worker: Process?
        defer {
            if serve.isRunning { serve.terminate() }
            if let worker, worker.isRunning { worker.terminate() }
        }
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))

        // Ready although it runs no worker, and it says what it is.
        let (status, report) = try await Self.health(base, client: client)
        #expect(status == 200, "\(report)")
        #expect(report["ready"] as? Bool == true)
        #expect(report["role"] as? String == "ingest-only")
        #expect((report["workers"] as? [String: Any])?["healthy"] as? Bool == true)
        #expect(((report["workers"] as? [String: Any])?["detail"] as? String)?.contains("ingest-only") == true)
        #expect(try await ServeProcessTests.get(base + "/health/ready", client: client).status == 200)

        // It accepts events and applies none of them itself.
        var request = HTTPClientRequest(url: base + "/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
        let events = (0..<5).map { #"{"type":"completion","session_id":"s\#($0)","latency_ms":40,"accepted":true}"# }
        request.body = .bytes(ByteBuffer(string: events.joined(separator: "\n")))
        let response = try await client.execute(request, timeout: .seconds(10))
        #expect(response.status.code == 202)
        try await Task.sleep(for: .seconds(1))
        #expect(try await Self.health(base, client: client).json["lag"] as? Int == 5)
        #expect(try await ServeProcessTests.metricsJSON(base, client: client)["completions"] as? Double == 0)

        // A worker process on the same Redis applies them; the node reports the global numbers.
        worker = try WorkerProcessTests.startWorker(redis: redis.url)
        let applied = try await eventually(seconds: 30) {
            try await ServeProcessTests.metricsJSON(base, client: client)["completions"] as? Double == 5
        }
        #expect(applied)

        // Its readiness follows the log: without Redis it is not ready.
        await redis.stop()
        let unready = try await eventually(seconds: 20) {
            try await ServeProcessTests.get(base + "/health/ready", client: client).status == 503
        }
        #expect(unready)
        serve.terminate()
        await serve.exited()
        worker?.terminate()
        await worker?.exited()
    }

    @Test func zeroWorkersWithoutRedisOrANegativeCountIsRefusedWithOneLine() async throws {
        let embedded = try await ExternalTool.run(ServeProcessTests.tallyPath, ["serve", "--port", "18098", "--workers", "0"])
        #expect(embedded.status != 0)
        #expect(embedded.stderr.contains("--workers 0 runs an ingest-only node and needs --redis"), "\(embedded.stderr)")
        let negative = try await ExternalTool.run(ServeProcessTests.tallyPath, ["serve", "--port", "18098", "--workers=-1"])
        #expect(negative.status != 0)
        #expect(negative.stderr.contains("--workers must be 0 (ingest only) or more"), "\(negative.stderr)")
    }
}
