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

    /// Writes `n` in decimal followed by CRLF, without allocating a String.

    static func writeDecimal(_ n: Int, into buffer: inout ByteBuffer) {
        if n >= 0 && n < 10 {
            buffer.writeInteger(UInt8(48 + n))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var value = n.magnitude
            var count = 0
            withUnsafeMutableBytes(of: &digits) { raw in
                repeat {
                    raw[19 - count] = UInt8(48 + value % 10)
                    value /= 10
                    count += 1
                } while value > 0
                if n < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
            }
        }
        buffer.writeStaticString("\r\n")
    }
}
