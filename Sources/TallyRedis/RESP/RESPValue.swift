import NIOCore

/// One RESP2 or RESP3 value as the server sent it.
///
/// Bulk payloads stay `ByteBuffer` slices of the read buffer (no copy, no
/// UTF-8 assumption); error replies keep the server's message verbatim.
/// Maps keep the server's order and any duplicate keys. The type is a plain
/// value: `Sendable` and `Equatable`.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`: a short, binary-unsafe status string.
    case simpleString(String)
    /// `$5\r\nhello`: a binary-safe payload.
    case bulkString(ByteBuffer)
    /// `=15\r\ntxt:…`: a bulk string tagged with a three-letter format.
    case verbatimString(format: String, ByteBuffer)
    /// `:42`
    case integer(Int64)
    /// `,3.14`, including `inf`, `-inf` and `nan`.
    case double(Double)
    /// `#t` / `#f`
    case boolean(Bool)
    /// `(3492890328409238509324850943850943825024385`: kept as its decimal text.
    case bigNumber(String)
    /// `_`, or the RESP2 null bulk string / null array.
    case null
    /// `-ERR …` or `!21\r\n…`: the server's message, verbatim (the code is its first word).
    case error(String)
    /// `*N`
    case array([RESPValue])
    /// `%N`: key/value pairs in the server's order.
    case map([RESPMapEntry])
    /// `~N`
    case set([RESPValue])
}

/// One key/value pair of a RESP3 map, in the order the server sent it.
public struct RESPMapEntry: Sendable, Equatable {
    public var key: RESPValue
    public var value: RESPValue

    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

/// A top-level frame read from a connection: a reply to a command, or an
/// out-of-band RESP3 push (`>`) which never answers a command.
public enum RESPFrame: Sendable, Equatable {
    case reply(RESPValue)
    case push([RESPValue])
}

extension RESPValue {
    /// The payload as UTF-8 text for string-like values and numbers; `nil` otherwise.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b), .verbatimString(_, let b): return String(buffer: b)
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .bigNumber(let s): return s
        case .boolean(let b): return b ? "1" : "0"
        default: return nil
        }
    }

    /// The value as an integer: integers, and numeric strings (RESP2 sends some numbers as text).
    public var int: Int? {
        switch self {
        case .integer(let i): return Int(exactly: i)
        case .simpleString, .bulkString, .bigNumber: return string.flatMap { Int($0) }
        case .boolean(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// The value as a double: RESP3 doubles, integers, and numeric strings (RESP2 scores).
    public var double: Double? {
        switch self {
        case .double(let d): return d
        case .integer(let i): return Double(i)
        case .simpleString, .bulkString, .bigNumber:
            guard let s = string else { return nil }
            switch s.lowercased() {
            case "inf", "+inf": return .infinity
            case "-inf": return -.infinity
            default: return Double(s)
            }
        default: return nil
        }
    }

    /// The elements of an array, set or (flattened) map; `nil` for scalars and null.
    public var array: [RESPValue]? {
        switch self {
        case .array(let a), .set(let a): return a
        case .map(let m): return m.flatMap { [$0.key, $0.value] }
        default: return nil
        }
    }

    /// Key/value pairs of a RESP3 map, or of a RESP2 flat array `[k1, v1, k2, v2…]`.
    public var mapEntries: [RESPMapEntry]? {
        switch self {
        case .map(let m): return m
        case .array(let a):
            guard a.count % 2 == 0 else { return nil }
            return stride(from: 0, to: a.count, by: 2).map { RESPMapEntry(key: a[$0], value: a[$0 + 1]) }
        default: return nil
        }
    }

    /// True for `.null` (RESP3 null and the RESP2 null bulk string and null array).
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RESPValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let s): return "+\(s)"
        case .bulkString(let b): return "\"\(String(buffer: b))\""
        case .verbatimString(let f, let b): return "\(f):\(String(buffer: b))"
        case .integer(let i): return ":\(i)"
        case .double(let d): return ",\(d)"
        case .boolean(let b): return b ? "#t" : "#f"
        case .bigNumber(let s): return "(\(s)"
        case .null: return "null"
        case .error(let e): return "-\(e)"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .set(let a): return "~[" + a.map(\.description).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}
