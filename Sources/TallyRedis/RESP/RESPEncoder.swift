import NIOCore

/// The outbound half of the protocol: writes commands as RESP arrays of bulk strings.
///
/// Pure functions over a `ByteBuffer`; many commands can be encoded into one
/// buffer so a pipeline or batch leaves in a single write.
enum RESPEncoder {

    /// Encodes one command with a single write into `buffer`: its size is computed first, then the
    /// bytes are copied through one raw pointer. (A write per header, argument and CRLF costs a
    /// `ByteBuffer` capacity and exclusivity check each: most of a client's time in a pipeline.)
    static func encode(_ command: RedisCommand, into buffer: inout ByteBuffer) {
        let arguments = command.arguments
        var size = 1 + decimalWidth(arguments.count) + 2
        for argument in arguments {
            let length: Int
            switch argument {
            case .string(let s): length = s.utf8.count
            case .bytes(let b): length = b.readableBytes
            case .integer(let i): length = decimalWidth(i)
            case .double(let d): length = text(of: d).utf8.count  // rare: formatted again when written
            }
            size += 1 + decimalWidth(length) + 2 + length + 2
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var at = 0
            raw[at] = UInt8(ascii: "*"); at += 1
            at = putDecimalLine(arguments.count, raw, at)
            for argument in arguments {
                switch argument {
                case .string(let s):
                    at = putBulk(s, raw, at)
                case .bytes(let b):
                    raw[at] = UInt8(ascii: "$"); at += 1
                    at = putDecimalLine(b.readableBytes, raw, at)
                    b.withUnsafeReadableBytes { bytes in
                        if bytes.count > 0 { raw.baseAddress!.advanced(by: at).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                    }
                    at += b.readableBytes
                case .integer(let i):
                    raw[at] = UInt8(ascii: "$"); at += 1
                    at = putDecimalLine(decimalWidth(i), raw, at)
                    at = putDecimal(i, raw, at)
                case .double(let d):
                    at = putBulk(text(of: d), raw, at)
                }
                raw[at] = 13; raw[at + 1] = 10; at += 2
            }
            assert(at == size)
            return at
        }
    }

    /// A double as Redis reads it.
    private static func text(of d: Double) -> String {
        d.isInfinite ? (d < 0 ? "-inf" : "+inf") : String(d)
    }

    /// `$<length>\r\n<bytes>` of a string.
    private static func putBulk(_ s: String, _ raw: UnsafeMutableRawBufferPointer, _ start: Int) -> Int {
        var at = start
        let utf8 = s.utf8
        raw[at] = UInt8(ascii: "$"); at += 1
        at = putDecimalLine(utf8.count, raw, at)
        let copied = utf8.withContiguousStorageIfAvailable { bytes -> Int in
            if bytes.count > 0 { raw.baseAddress!.advanced(by: at).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            return bytes.count
        }
        if let copied { return at + copied }
        for byte in utf8 {  // a string without contiguous UTF-8 storage (bridged): byte by byte
            raw[at] = byte
            at += 1
        }
        return at
    }

    /// How many characters `n` takes in decimal, with its sign.
    @inline(__always)
    static func decimalWidth(_ n: Int) -> Int {
        if n >= 0 && n < 10 { return 1 }  // argument counts and most lengths: no division
        if n >= 10 && n < 100 { return 2 }
        var magnitude = n.magnitude
        var digits = 1
        while magnitude >= 10 {
            magnitude /= 10
            digits += 1
        }
        return digits + (n < 0 ? 1 : 0)
    }

    /// Writes `n` in decimal at `start`; returns the index after it.
    private static func putDecimal(_ n: Int, _ raw: UnsafeMutableRawBufferPointer, _ start: Int) -> Int {
        let width = decimalWidth(n)
        var magnitude = n.magnitude
        var i = start + width - 1
        repeat {
            raw[i] = UInt8(truncatingIfNeeded: 48 &+ magnitude % 10)
            magnitude /= 10
            i -= 1
        } while magnitude > 0
        if n < 0 { raw[start] = UInt8(ascii: "-") }
        return start + width
    }

    private static func putDecimalLine(_ n: Int, _ raw: UnsafeMutableRawBufferPointer, _ start: Int) -> Int {
        let at = putDecimal(n, raw, start)
        raw[at] = 13
        raw[at + 1] = 10
        return at + 2
    }
}
