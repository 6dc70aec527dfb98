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
        // Each pipe is read to its end by one reader, in order, off the cooperative threads, from
        // before the process starts (so a full pipe never stalls it) until it closes.
        async let out = Self.readToEnd(stdout.fileHandleForReading)
        async let err = Self.readToEnd(stderr.fileHandleForReading)
        let status: Int32
        do {
            status = try await withCheckedThrowingContinuation { continuation in
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
        } catch {
            // Never started: close the write ends so the readers see the end of their pipes.
            try? stdout.fileHandleForWriting.close()
            try? stderr.fileHandleForWriting.close()
            _ = await (out, err)
            throw error
        }
        try? stdout.fileHandleForWriting.close()
        try? stderr.fileHandleForWriting.close()
        let (outData, errData) = await (out, err)
        return Output(status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// All of `handle`'s data until end of file, read on a dispatch thread.
    private static func readToEnd(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: handle.readDataToEndOfFile())
            }
        }
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
