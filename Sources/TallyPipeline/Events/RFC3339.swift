import Foundation

/// Parses RFC 3339 timestamps (`2026-11-25T10:00:00Z`, with optional fraction and offset) to unix seconds.
enum RFC3339 {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let plain = Date.ISO8601FormatStyle()

    static func parse(_ text: String) -> Double? {
        if let date = try? plain.parse(text) { return date.timeIntervalSince1970 }
        if let date = try? withFraction.parse(text) { return date.timeIntervalSince1970 }
        return nil
    }
}
