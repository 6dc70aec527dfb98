import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TallyPipeline
import TallyRedis
import TallyTesting

/// `tally serve`, `tally worker` and `tally dlq` on a Redis that speaks only TLS and requires a
/// client certificate: configured with `rediss://` and the `--redis-tls-…` options (or their
/// `TALLY_…` variables), events go in and come out exact; a wrong CA is one clear line.
@Suite struct RedisTLSProcessTests {
    static func tlsArguments(_ certificates: TestCertificates) -> [String] {
        ["--redis-tls-ca", certificates.caFile, "--redis-tls-cert", certificates.clientCertificateFile,
         "--redis-tls-key", certificates.clientKeyFile, "--redis-tls-server-name", TestCertificates.serverName]
    }

    /// SIGTERM, and the process must exit within 30 s; one that does not is a failure, and is killed
    /// so that the suite goes on.
    static func stop(_ process: Process, name: String) async {
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            Issue.record("tally \(name) did not exit within 30 s of SIGTERM")
            kill(process.processIdentifier, SIGKILL)
            await process.exited()
        }
    }

    @Test func anIngestNodeAndAWorkerRunOverTLSWithAClientCertificate() async throws {
        let redis = try await RedisServer.start(tls: .required(requireClientCertificate: true))
        let certificates = try #require(redis.certificates)
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let serve = try ServeProcessTests.startServe(port: port, redis: redis.url, arguments: ["--workers", "0"] + Self.tlsArguments(certificates))
        // The worker takes its TLS options from the environment.
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: ServeProcessTests.tallyPath)
        worker.arguments = ["worker", "--redis", redis.url]
        worker.environment = ProcessInfo.processInfo.environment.merging([
            "TALLY_REDIS_TLS_CA": certificates.caFile, "TALLY_REDIS_TLS_CERT": certificates.clientCertificateFile,
            "TALLY_REDIS_TLS_KEY": certificates.clientKeyFile, "TALLY_REDIS_TLS_SERVER_NAME": TestCertificates.serverName,
        ]) { $1 }
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = FileHandle.nullDevice
        try worker.runTracked()
        let client = HTTPClient.shared
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))

        var generator = SessionEventGenerator(sessions: 20, seed: 443)
        let batch = generator.batch(300)
        #expect(try await RetryExactnessTests.post(base, batch, client: client).status == 202)

        let expected = ExactTotals(try EventDecoder().decodeBatch(Array(batch.utf8), format: .ndjson))
        let applied = try await eventually(seconds: 60) {
            let json = try await ServeProcessTests.metricsJSON(base, client: client)
            return (json["completions"] as? Double) == expected.completions
        }
        #expect(applied)
        let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(connection: redis.configuration(), leaseTimeout: RedisServer.leaseTimeout))
        #expect(try await ExactTotals.read(from: RedisStateStore(client: pool), now: nil) == expected)

        // The operator's command too.
        let listed = try await StartupChecksTests.runTally(["dlq", "list", "--redis", redis.url] + Self.tlsArguments(certificates))
        #expect(listed.status == 0, "\(listed.stderr)")

        // A CA that did not sign the server: one clear line, nothing started.
        let refused = try await StartupChecksTests.runTally(["worker", "--redis", redis.url, "--redis-tls-ca", certificates.otherCAFile,
                                                             "--redis-tls-server-name", TestCertificates.serverName])
        #expect(refused.status != nil && refused.status != 0)
        let lines = refused.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(lines.count == 1 && lines.first?.contains("TLS handshake") == true, "\(refused.stderr)")
        // TLS options with a plain URL are refused, not ignored.
        let plain = try await StartupChecksTests.runTally(["worker", "--redis", "redis://127.0.0.1:\(redis.port)", "--redis-tls-ca", certificates.caFile])
        #expect(plain.status != nil && plain.status != 0 && plain.stderr.contains("rediss://"), "\(plain.stderr)")

        for (process, name) in [(serve, "serve"), (worker, "worker")] {
            await Self.stop(process, name: name)
        }
        await pool.close()
        await redis.stop()
    }
}
