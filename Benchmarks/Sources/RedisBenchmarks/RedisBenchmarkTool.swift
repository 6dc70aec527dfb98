import Foundation
import TallyTesting

/// Runs `redis-benchmark` against a server and returns its requests per second.
enum RedisBenchmarkTool {
    /// With `tls`, over TLS (`--tls`), trusting the test CA and sending its server name.
    static func run(port: Int, clients: Int, requests: Int, pipeline: Int, command: [String], tls: TestCertificates? = nil) async throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-benchmark", "-h", "127.0.0.1", "-p", "\(port)", "-c", "\(clients)", "-n", "\(requests)",
                             "-P", "\(pipeline)", "--csv"]
            + (tls.map { ["--tls", "--cacert", $0.caFile, "--sni", TestCertificates.serverName] } ?? []) + command
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Output is a few hundred bytes with --csv: reading after exit cannot fill the pipe.
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.hasPrefix("\"test\"") }) else {
            throw BenchmarkError.unparsable(text)
        }
        let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        // The command itself may contain commas; rps is the seventh field from the end.
        guard fields.count >= 8, let rps = Double(fields[fields.count - 7]) else { throw BenchmarkError.unparsable(text) }
        return rps
    }
}

enum BenchmarkError: Error, CustomStringConvertible {
    case unparsable(String)

    var description: String {
        switch self {
        case .unparsable(let text): return "could not read redis-benchmark output:\n\(text)"
        }
    }
}
