/// A stream id `ms-seq`, ordered as Redis orders them.
struct StreamID: Comparable, CustomStringConvertible {
    var ms: UInt64
    var seq: UInt64

    init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// `ms-seq` or `ms` (sequence 0), in decimal digits; nil for anything else. Read byte by byte:
    /// every commit reads the ids of its whole batch.
    init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        (ms, seq) = parsed
    }

    private static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        var parts: (UInt64, UInt64) = (0, 0)
        var value: UInt64 = 0
        var digits = 0
        var inSequence = false
        for byte in utf8 {
            if byte == UInt8(ascii: "-"), !inSequence, digits > 0 {
                parts.0 = value
                value = 0
                digits = 0
                inSequence = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            digits += 1
        }
        guard digits > 0 else { return nil }
        if inSequence { parts.1 = value } else { parts.0 = value }
        return parts
    }

    static func < (a: StreamID, b: StreamID) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }

    static func min(_ a: StreamID?, _ b: StreamID?) -> StreamID? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.min(a, b)
    }

    var description: String { "\(ms)-\(seq)" }
}
