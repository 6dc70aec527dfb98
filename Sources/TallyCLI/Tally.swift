import ArgumentParser
import TallyRedis
import TallyServer

/// `tally`: the telemetry service and its operator commands.
@main
struct Tally: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Tally telemetry service: events in over HTTP, global metrics out on /metrics.",
        discussion: "Every option also reads from an environment variable TALLY_<OPTION> (e.g. TALLY_REDIS, TALLY_PORT).",
        version: TallyBuild.version,
        subcommands: [Serve.self, Worker.self, DeadLetters.self, Shards.self, LoadGen.self]
    )
}

/// Reads `TALLY_<NAME>` for an option's default.
func environment(_ name: String) -> String? {
    let value = ProcessInfo.processInfo.environment["TALLY_" + name]
    return value?.isEmpty == false ? value : nil
}

/// Whether `TALLY_<NAME>` turns a flag on: `1`, `true`, `yes` or `on` (any case).
func environmentFlag(_ name: String) -> Bool {
    ["1", "true", "yes", "on"].contains(environment(name)?.lowercased() ?? "")
}

import Foundation

/// Prints one line to standard error and exits non-zero.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("tally: \(message)\n".utf8))
    return ExitCode.failure
}

/// An option's seconds as a `Duration` of whole milliseconds. Refuses what is not a finite number
/// of seconds up to 10⁹ (about 31 years), so that no value given can crash the conversion.
func optionDuration(seconds: Double, option: String) throws -> Duration {
    guard seconds.isFinite, seconds.magnitude <= 1e9 else { throw ValidationError("\(option) must be a number of seconds, got \(seconds)") }
    return .milliseconds(Int64((seconds * 1000).rounded()))
}

/// Fails with one clear line when Redis cannot be reached (or its URL or TLS options cannot be
/// used); returns whether it runs a Redis Cluster.
@discardableResult
func requireRedis(_ options: RedisOptions) async throws -> Bool {
    do {
        return try await options.detectCluster()
    } catch {
        throw fail("cannot reach Redis at \(options.urls.map { RedisConfiguration.redacted($0) }.joined(separator: ",")): \(error)")
    }
}
