import Foundation

/// The files under `deploy/` and `docs/`, read from the source tree, and small
/// readers for what the deploy tests check in them.
enum DeployFiles {
    /// The package root (this file is `Tests/TallyServerTests/Deploy/DeployFiles.swift`).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    static let runbookBase = "https://github.com/tally/tally/blob/main/docs/runbooks.md"
}
