import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TallyRedis

/// A throwaway `redis-server` for tests: its own free TCP port and Unix
/// socket in a fresh temporary directory, no persistence, optional password.
///
/// `withRedisServer` guarantees the process is stopped and its directory
/// removed when the body returns or throws. `kill()`/`restart()` simulate a
/// crash and a restart on the same port and socket. Never blocks a
/// cooperative thread: readiness and exit are awaited by polling with
/// `Task.sleep`.
public final class RedisServer: Sendable {
    /// How long a test client waits for a connection to be made: long, because the whole suite
    /// runs at once on 2 cores and a connect then can take seconds.
    public static let connectTimeout: Duration = .seconds(30)
    /// The lease timeout for test pools (`RedisPoolConfiguration.leaseTimeout`): as long as
    /// ``connectTimeout``, so that a connect slowed by a loaded machine is not reported as "no
    /// connection could be had". Tests of the lease deadline itself set their own.
    public static let leaseTimeout: Duration = connectTimeout

    /// TCP port on 127.0.0.1.
    public let port: Int
    /// Path of the Unix socket.
    public let unixSocketPath: String
    /// The `requirepass` password, if any.
    public let password: String?
    /// The server's working directory (its log is `redis.log` there).
    public let directory: String
    /// The certificates of a server started with ``start(password:extraArguments:tls:)``'s `tls`:
    /// then `port` is its TLS port and it has no plain TCP port.
    public let certificates: TestCertificates?
    /// Whether the server requires a client certificate.
    public let requiresClientCertificate: Bool
    private let extraArguments: [String]
    private let process = Mutex<Process?>(nil)

    private init(port: Int, directory: String, password: String?, extraArguments: [String], certificates: TestCertificates?, requiresClientCertificate: Bool) {
        self.port = port
        self.directory = directory
        self.unixSocketPath = directory + "/redis.sock"
        self.password = password
        self.extraArguments = extraArguments
        self.certificates = certificates
        self.requiresClientCertificate = requiresClientCertificate
    }

    /// `redis://[:password@]127.0.0.1:port` (`rediss://` for a TLS server)
    public var url: String {
        let scheme = certificates == nil ? "redis" : "rediss"
        if let password { return "\(scheme)://:\(password)@127.0.0.1:\(port)" }
        return "\(scheme)://127.0.0.1:\(port)"
    }

    /// The client side of a TLS server's certificates: its CA, and the client certificate.
    public var clientTLS: RedisTLSConfiguration? {
        certificates.map {
            RedisTLSConfiguration(caFile: $0.caFile, certificateFile: $0.clientCertificateFile, keyFile: $0.clientKeyFile,
                                  serverName: TestCertificates.serverName)
        }
    }

    /// `unix:///…/redis.sock[?password=…]`
    public var unixURL: String {
        "unix://\(unixSocketPath)" + (password.map { "?password=\($0)" } ?? "")
    }

    /// A TCP connection configuration for this server. The connect timeout is generous: on a loaded
    /// 2-core test machine a loopback connect has been seen to wait more than 5 s for its event loop.
    public func configuration(commandTimeout: Duration = .seconds(10)) -> RedisConfiguration {
        RedisConfiguration(
            endpoint: .tcp(host: "127.0.0.1", port: port), password: password,
            connectTimeout: Self.connectTimeout, commandTimeout: commandTimeout, tls: clientTLS
        )
    }

    /// How a test server speaks TLS.
    public enum TLS: Sendable {
        /// TLS only (no plain TCP port), with certificates made at start; clients present one when `requireClientCertificate`.
        case required(requireClientCertificate: Bool)
        /// TLS only, with these certificates (shared by the nodes of a cluster, which talk TLS to each other too).
        case shared(TestCertificates)
    }

    /// Starts a server on a free port and waits until it answers `PING`.
    /// - Parameter port: a port to use (a cluster node's, chosen with its bus port); a free one by default.
    public static func start(password: String? = nil, extraArguments: [String] = [], tls: TLS? = nil, port fixedPort: Int? = nil) async throws -> RedisServer {
        guard let executable = executablePath() else { throw RedisServerError.notInstalled }
        var lastError: any Error = RedisServerError.notReady("no attempt made")
        for _ in 0..<5 {
            let directory = "/tmp/tally-redis-" + String(UUID().uuidString.prefix(8)).lowercased()
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var certificates: TestCertificates?
            var requireClient = false
            switch tls {
            case .required(let requireClientCertificate):
                certificates = try await TestCertificates.make(in: directory + "/tls")
                requireClient = requireClientCertificate
            case .shared(let existing):
                certificates = existing
            case nil:
                break
            }
            var port = fixedPort ?? 0
            if fixedPort == nil { port = LocalPorts.free() }
            let server = RedisServer(port: port, directory: directory, password: password, extraArguments: extraArguments,
                                     certificates: certificates, requiresClientCertificate: requireClient)
            do {
                try await server.launch(executable: executable)
                return server
            } catch {
                // Most likely the port was taken between probing and binding: try another.
                lastError = error
                await server.stop()
            }
        }
        throw lastError
    }

    /// Starts the server again on the same port and socket (after `kill()`).
    public func restart() async throws {
        guard let executable = Self.executablePath() else { throw RedisServerError.notInstalled }
        try await launch(executable: executable)
    }

    /// Whether the server process runs (false after `kill()` or `stop()`).
    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// SIGKILL, as a crash would: clients see their connections reset. Waits for the exit.
    public func kill() async {
        await terminate(signal: SIGKILL)
    }

    /// SIGSTOP: the server keeps its connections but answers nothing, as a hung or
    /// partitioned server would, until ``resume()``.
    public func pause() {
        if let p = process.withLock({ $0 }), p.isRunning { Foundation.kill(p.processIdentifier, SIGSTOP) }
    }

    /// SIGCONT after ``pause()``: the server runs what it was sent meanwhile.
    public func resume() {
        if let p = process.withLock({ $0 }), p.isRunning { Foundation.kill(p.processIdentifier, SIGCONT) }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 2 s) and removes its directory.
    public func stop() async {
        await terminate(signal: SIGTERM)
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: internals

    private static func executablePath() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(dir)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Server starts in this process, four at a time (see ``StartGate``).
    private static let starts = StartGate(limit: 4)

    private func launch(executable: String) async throws {
        try await Self.starts.run { try await self.launchNow(executable: executable) }
    }

    private func launchNow(executable: String) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        var arguments = certificates.map {
            ["--port", "0", "--tls-port", "\(port)", "--tls-cert-file", $0.serverCertificateFile, "--tls-key-file", $0.serverKeyFile,
             "--tls-ca-cert-file", $0.caFile, "--tls-auth-clients", requiresClientCertificate ? "yes" : "no"]
        } ?? ["--port", "\(port)"]
        arguments += [
            "--bind", "127.0.0.1",
            "--unixsocket", unixSocketPath, "--unixsocketperm", "700",
            "--save", "", "--appendonly", "no", "--dir", directory,
            "--daemonize", "no", "--logfile", directory + "/redis.log",
        ]
        if let password { arguments += ["--requirepass", password] }
        p.arguments = arguments + extraArguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        ChildProcesses.started(p.processIdentifier)
        process.withLock { $0 = p }
        let probe = RedisConfiguration(endpoint: .unixSocket(path: unixSocketPath), password: password, connectTimeout: .milliseconds(500))
        let giveUpAt = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < giveUpAt {
            guard p.isRunning else {
                let log = (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
                throw RedisServerError.exited(log.split(separator: "\n").suffix(5).joined(separator: "\n"))
            }
            if let connection = try? await RedisConnection.connect(probe) {
                let answered = (try? await connection.ping()) != nil
                await connection.close()
                if answered { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisServerError.notReady("redis-server on port \(port) did not answer PING within 10 s")
    }

    private func terminate(signal: Int32) async {
        guard let p = process.withLock({ p -> Process? in defer { p = nil }; return p }) else { return }
        defer { ChildProcesses.stopped(p.processIdentifier) }
        guard p.isRunning else { return }
        Foundation.kill(p.processIdentifier, SIGCONT)  // a paused server must be able to act on the signal
        Foundation.kill(p.processIdentifier, signal)
        let escalateAt = ContinuousClock.now + .seconds(2)
        while p.isRunning {
            if ContinuousClock.now > escalateAt { Foundation.kill(p.processIdentifier, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Why a test Redis server could not be started.
public enum RedisServerError: Error, CustomStringConvertible {
    case notInstalled
    case exited(String)
    case notReady(String)

    public var description: String {
        switch self {
        case .notInstalled:
            return "redis-server was not found on PATH: run scripts/test, which installs it from Debian (apt-get install redis-server) before running the tests"
        case .exited(let log):
            return "redis-server exited during start-up; last log lines:\n\(log)"
        case .notReady(let message):
            return message
        }
    }
}

/// Runs `body` with a fresh server, stopping it afterwards even when `body` throws.
public func withRedisServer<T>(
    password: String? = nil,
    extraArguments: [String] = [],
    _ body: (RedisServer) async throws -> T
) async throws -> T {
    let server = try await RedisServer.start(password: password, extraArguments: extraArguments)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
