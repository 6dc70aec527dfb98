/// Redis Cluster's key slot: CRC16 (XMODEM) of the key mod 16384, of only the `{hash tag}` when
/// the key has one (the text between the first `{` and the next `}`, if not empty), so that keys
/// sharing a tag share a slot.
public enum HashSlot {
    public static let count = 16384

    public static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { of(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The slot of a key given as bytes (computed in place: routing runs once per command).
    static func of(bytes: UnsafeRawBufferPointer) -> Int {
        var start = 0, end = bytes.count
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            start = open + 1
            end = close
        }
        return Int(crc16(bytes[start..<end]) % UInt16(count))
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis Cluster specifies; one
    /// table lookup per byte.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// The CRC of each byte value, shifted through the polynomial bit by bit once.
    private static let table: [UInt16] = (0..<256).map { byte -> UInt16 in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
