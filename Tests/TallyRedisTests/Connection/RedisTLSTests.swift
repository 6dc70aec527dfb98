import Foundation
import Testing
import TallyRedis
import TallyTesting

/// TLS against a real `redis-server --tls-port`, with certificates made by `openssl` at test time.
@Suite struct RedisTLSTests {
    /// Commands, a pipeline, streams and a blocking read, through a pool, over TLS with the CA verified.
    @Test func commandsPipelinesAndStreamsWorkOverTLS() async throws {
        let server = try await RedisServer.start(tls: .required(requireClientCertificate: false))
        let certificates = try #require(server.certificates)
        let configuration = try RedisConfiguration(url: server.url, tls: RedisTLSConfiguration(caFile: certificates.caFile, serverName: "localhost"))
        let pool = RedisConnectionPool(configuration: try RedisPoolConfiguration(connection: configuration, maximumConnections: 2, leaseTimeout: RedisServer.leaseTimeout))
        #expect(try await pool.set("greeting", to: "hello over tls"))
        #expect(try await pool.get("greeting") == "hello over tls")
        let replies = try await pool.send(batch: (0..<100).map { _ in RedisCommand("INCR", "counter") })
        #expect(replies.last?.int == 100)
        try await pool.xgroupCreate("events", group: "g", startID: "0", makeStream: true)
        let reading = Task { try await pool.xreadgroup(group: "g", consumer: "c", streams: [("events", ">")], count: 10, block: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        _ = try await pool.xadd("events", fields: [("event", "tls")])
        let read = try await reading.value
        #expect(read.first?.entries.first?.fields?.first?.value == "tls")
        // A big value crosses many TLS records.
        let big = String(repeating: "x", count: 2_000_000)
        #expect(try await pool.set("big", to: .string(big)))
        #expect(try await pool.get("big") == big)
        await pool.close()
        await server.stop()
    }

    /// A server whose certificate another CA signed, or that is reached by a name (or an address)
    /// its certificate does not carry, is refused with a TLS error before any command is sent.
    @Test func anUntrustedOrMisnamedServerIsRefusedClearly() async throws {
        let server = try await RedisServer.start(tls: .required(requireClientCertificate: false))
        let certificates = try #require(server.certificates)
        for (tls, what) in [
            (RedisTLSConfiguration(caFile: certificates.otherCAFile, serverName: "localhost"), "another CA"),
            (RedisTLSConfiguration(caFile: certificates.caFile, serverName: "not-this-server.example"), "another name"),
            (RedisTLSConfiguration(caFile: certificates.caFile), "an address the certificate does not name"),
            (RedisTLSConfiguration(serverName: "localhost"), "the system roots"),
        ] {
            let error = await expectRedisError { _ = try await RedisConnection.connect(try RedisConfiguration(url: server.url, tls: tls)) }
            guard case .tlsHandshakeFailed(_, let reason)? = error else {
                Issue.record("\(what): \(String(describing: error))")
                continue
            }
            #expect(error?.wasNotSent == true)
            #expect(!reason.isEmpty, "\(what)")
        }
        // The same name check passes for the names the certificate carries, and can be turned off.
        for tls in [RedisTLSConfiguration(caFile: certificates.caFile, serverName: "localhost"),
                    RedisTLSConfiguration(caFile: certificates.caFile, serverName: "not-this-server.example", verification: .chainOnly)] {
            let connection = try await RedisConnection.connect(try RedisConfiguration(url: server.url, tls: tls))
            #expect(try await connection.ping() == "PONG")
            await connection.close()
        }
        await server.stop()
    }

    /// A server that requires a client certificate refuses a client without one, and accepts ours.
    @Test func aRequiredClientCertificateIsPresented() async throws {
        let server = try await RedisServer.start(tls: .required(requireClientCertificate: true))
        let certificates = try #require(server.certificates)
        let error = await expectRedisError {
            let connection = try await RedisConnection.connect(try RedisConfiguration(url: server.url, tls: RedisTLSConfiguration(caFile: certificates.caFile, serverName: "localhost")))
            _ = try await connection.ping()
        }
        if case .tlsHandshakeFailed(_, let reason)? = error {
            #expect(reason.contains("CERTIFICATE_REQUIRED"), "\(reason)")
        } else {
            Issue.record("without a client certificate: \(String(describing: error))")
        }
        let connection = try await RedisConnection.connect(server.configuration())
        #expect(try await connection.ping() == "PONG")
        await connection.close()
        await server.stop()
    }

    /// Files that cannot be read are a configuration error at connect, naming the problem.
    @Test func unreadableTLSFilesAreAConfigurationError() async throws {
        for tls in [RedisTLSConfiguration(caFile: "/nonexistent/ca.pem"),
                    RedisTLSConfiguration(certificateFile: "/nonexistent/client.pem")] {
            let error = await expectRedisError { _ = try await RedisConnection.connect(try RedisConfiguration(url: "rediss://127.0.0.1:1", tls: tls)) }
            guard case .tlsConfiguration(let reason)? = error else {
                Issue.record("\(String(describing: error))")
                continue
            }
            #expect(reason.contains("nonexistent") || reason.contains("key file"), "\(reason)")
        }
    }
}
