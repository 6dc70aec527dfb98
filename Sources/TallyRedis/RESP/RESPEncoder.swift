import NIOCore

/// The outbound half of the protocol: writes commands as RESP arrays of bulk strings.
///
/// Pure functions over a `ByteBuffer`; many commands can be encoded into one
/// buffer so a pipeline or batch leaves in a single write.
enum RESPEncoder {

    static func encode(_ command: RedisCommand, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(command.arguments.count, into: &buffer)
        for argument in command.arguments {
            switch argument {
            case .string(let s):
                var s = s
                s.withUTF8 { utf8 in
                    buffer.writeInteger(UInt8(ascii: "$"))
                    writeDecimal(utf8.count, into: &buffer)
                    buffer.writeBytes(utf8)
                }
            case .bytes(let b):
                buffer.writeInteger(UInt8(ascii: "$"))
                writeDecimal(b.readableBytes, into: &buffer)
                var b = b
                buffer.writeBuffer(&b)
            case .integer(let i):
                let digits = String(i)
                buffer.writeInteger(UInt8(ascii: "$"))
                writeDecimal(digits.utf8.count, into: &buffer)
                buffer.writeString(digits)
            case .double(let d):
                let digits = d.isInfinite ? (d < 0 ? "-inf" : "+inf") : String(d)
                buffer.writeInteger(UInt8(ascii: "$"))
                writeDecimal(digits.utf8.count, into: &buffer)
                buffer.writeString(digits)
            }
            buffer.writeStaticString("\r\n")
        }
    }

    /// Writes `n` in decimal followed by CRLF straight into the buffer (no String, no temporary).
    static func writeDecimal(_ n: Int, into buffer: inout ByteBuffer) {
        var magnitude = n.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        let total = digits + (n < 0 ? 1 : 0) + 2
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            var i = total - 3
            repeat {
                raw[i] = UInt8(truncatingIfNeeded: 48 &+ magnitude % 10)
                magnitude /= 10
                i -= 1
            } while magnitude > 0
            if n < 0 { raw[0] = UInt8(ascii: "-") }
            raw[total - 2] = 13
            raw[total - 1] = 10
            return total
        }
    }
}
