/// A stream id `ms-seq`, ordered as Redis orders them.
struct StreamID: Comparable, CustomStringConvertible {
    var ms: UInt64
    var seq: UInt64

    init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard let ms = parts.first.flatMap({ UInt64($0) }) else { return nil }
        self.ms = ms
        self.seq = parts.count > 1 ? UInt64(parts[1]) ?? 0 : 0
    }

    static func < (a: StreamID, b: StreamID) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }

    static func min(_ a: StreamID?, _ b: StreamID?) -> StreamID? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.min(a, b)
    }

    var description: String { "\(ms)-\(seq)" }
}
