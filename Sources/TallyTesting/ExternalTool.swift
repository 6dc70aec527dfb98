import Foundation

/// Runs an external program (promtool, a Python parser, redis-cli) for a test
/// and collects its output without blocking a cooperative thread.
public enum ExternalTool {
    public struct Output: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case notInstalled(String, hint: String)

        public var description: String {
            switch self {
            case .notInstalled(let tool, let hint): return "\(tool) is not installed: \(hint)"
            }
        }
    }

    /// Finds `name` on PATH or in the usual system folders.
    public static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        for folder in folders {
            let candidate = folder + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments`, writing `input` to its standard input.
    public static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let collected = OutputCollector()
        stdout.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData, error: false) }
        stderr.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData, error: true) }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            let writer = stdin.fileHandleForWriting
            DispatchQueue.global().async {
                writer.write(Data(input))
                try? writer.close()
            }
        }
        stdout.fileHandleForReading.readabilityHandler = nil
        stderr.fileHandleForReading.readabilityHandler = nil
        collected.append(stdout.fileHandleForReading.readDataToEndOfFile(), error: false)
        collected.append(stderr.fileHandleForReading.readDataToEndOfFile(), error: true)
        return Output(status: status, stdout: collected.stdout, stderr: collected.stderr)
    }
}

private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func append(_ data: Data, error: Bool) {
        self.lock.lock()
        defer { self.lock.unlock() }
        if error { self.err.append(data) } else { self.out.append(data) }
    }

    var stdout: String {
        self.lock.lock()
        defer { self.lock.unlock() }
        return String(decoding: self.out, as: UTF8.self)
    }

    var stderr: String {
        self.lock.lock()
        defer { self.lock.unlock() }
        return String(decoding: self.err, as: UTF8.self)
    }
}

extension Process {
    /// Waits for the process to exit without holding a thread: `waitUntilExit()` blocks a
    /// cooperative thread, and with two of them on a 2-core machine two such waits stall every
    /// other task of the test process (connects then time out).
    public func exited() async {
        while self.isRunning {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
