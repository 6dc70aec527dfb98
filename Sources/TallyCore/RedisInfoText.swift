/// The text of Redis's `INFO` reply (`# Section` headers and `name:value` lines) as a dictionary:
/// the one parser behind Tally's start-up checks and the kit's Redis INFO metrics.
package enum RedisInfoText {
    /// Every `name:value` line's value by name, blanks around the value dropped; headers and lines
    /// without a colon are skipped.
    package static func fields(_ info: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in info.split(whereSeparator: \.isNewline) {
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0.isWhitespace }
            result[String(line[..<colon])] = String(value.reversed().drop { $0.isWhitespace }.reversed())
        }
        return result
    }
}
