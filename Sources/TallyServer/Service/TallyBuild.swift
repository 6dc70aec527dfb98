import TallyMetrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What this build of Tally is, for `tally --version` and `tally_build_info`.
public enum TallyBuild {
    /// Tally's release version.
    public static let version = "0.9.0"

    /// The source revision: `TALLY_BUILD_REVISION` as the packaging sets it (a
    /// container image, a release script), or `unknown`. SwiftPM cannot stamp a
    /// commit into a binary without a build plugin, and a guessed one would mislead.
    public static var revision: String {
        guard let value = getenv("TALLY_BUILD_REVISION").map({ String(cString: $0) }), !value.isEmpty else { return "unknown" }
        return String(value.utf8.prefix(64).filter { $0 > 0x20 && $0 < 0x7F }.map { Character(Unicode.Scalar($0)) })
    }

    /// The Swift compiler this binary was built with (major.minor).
    public static let swiftVersion: String = {
        #if compiler(>=6.4)
        return "6.4+"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()

    /// Registers what every Tally process exports about itself: the process
    /// metrics (``ProcessMetrics``) and `tally_build_info{version,revision,swift}`.
    public static func registerProcessMetrics(in registry: MetricsRegistry) throws {
        try ProcessMetrics.register(in: registry)
        try BuildInfo.register(in: registry, name: "tally_build_info", help: "The Tally build this process runs; always 1.",
                               labels: [("version", version), ("revision", revision), ("swift", swiftVersion)])
    }
}
