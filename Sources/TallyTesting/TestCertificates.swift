import Foundation

/// Throwaway TLS material for tests, made with `openssl` in a directory: a CA, a server
/// certificate for the name ``serverName`` only (no IP address, so a client that checks names must
/// send it) signed by it, a client certificate signed by it, and a second, unrelated CA (to check
/// that a server it did not sign is refused).
public struct TestCertificates: Sendable {
    public let caFile: String
    public let serverCertificateFile: String
    public let serverKeyFile: String
    public let clientCertificateFile: String
    public let clientKeyFile: String
    /// A CA that signed nothing here.
    public let otherCAFile: String
    /// The one name the server certificate carries.
    public static let serverName = "localhost"

    /// Makes the files in `directory` (created if missing). Needs `openssl` on `PATH` (scripts/test installs it).
    public static func make(in directory: String) async throws -> TestCertificates {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory + "/" + name }
        try "subjectAltName=DNS:\(serverName)\n".write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: path("client.ext"), atomically: true, encoding: .utf8)
        for ca in ["ca", "other-ca"] {
            try await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("\(ca).key"), "-out", path("\(ca).crt"),
                               "-days", "2", "-subj", "/CN=Tally test \(ca)"])
        }
        for (name, subject, extensions) in [("server", "/CN=\(serverName)", "server.ext"), ("client", "/CN=tally-test-client", "client.ext")] {
            try await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
            try await openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial",
                               "-out", path("\(name).crt"), "-days", "2", "-extfile", path(extensions)])
        }
        return TestCertificates(caFile: path("ca.crt"), serverCertificateFile: path("server.crt"), serverKeyFile: path("server.key"),
                                clientCertificateFile: path("client.crt"), clientKeyFile: path("client.key"), otherCAFile: path("other-ca.crt"))
    }

    /// Runs `openssl` and waits for it without blocking a thread.
    private static func openssl(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        guard process.terminationStatus == 0 else {
            throw TestCertificatesError.opensslFailed(arguments: arguments, status: process.terminationStatus)
        }
    }
}

public enum TestCertificatesError: Error, CustomStringConvertible {
    case opensslFailed(arguments: [String], status: Int32)

    public var description: String {
        switch self {
        case .opensslFailed(let arguments, let status):
            return "openssl \(arguments.prefix(2).joined(separator: " ")) exited with \(status) (scripts/test installs openssl)"
        }
    }
}
