/// Why a byte stream is not valid RESP. The connection that produced it is
/// closed: a reply stream cannot be resynchronised after malformed input.
public enum RESPDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A type byte that RESP2/RESP3 does not define (or does not allow here).
    case invalidTypeByte(UInt8, offset: Int)
    /// A line not terminated by CRLF, or with a stray CR.
    case missingCRLF(offset: Int)
    /// A length, count or integer that is not a valid decimal number.
    case invalidInteger(String, offset: Int)
    /// A RESP3 double that does not parse.
    case invalidDouble(String, offset: Int)
    /// A RESP3 boolean other than `t` or `f`.
    case invalidBoolean(String, offset: Int)
    /// A RESP3 big number that is not a signed decimal.
    case invalidBigNumber(String, offset: Int)
    /// A verbatim string without its `xxx:` format prefix.
    case invalidVerbatimString(offset: Int)
    /// A length or count below -1, or over the configured limit.
    case lengthOutOfRange(Int64, limit: Int, offset: Int)
    /// Aggregates nested deeper than the configured limit.
    case nestingTooDeep(limit: Int, offset: Int)
    /// A simple line (status, error, number) longer than the configured limit.
    case lineTooLong(limit: Int, offset: Int)
    /// Streamed strings/aggregates (`$?`, `*?`) are not used by Redis and not supported.
    case streamedTypesNotSupported(offset: Int)
    /// The stream ended in the middle of a frame.
    case truncated(pendingBytes: Int)

    public var description: String {
        switch self {
        case .invalidTypeByte(let b, let o): return "RESP: invalid type byte 0x\(String(b, radix: 16)) at offset \(o)"
        case .missingCRLF(let o): return "RESP: line not terminated by CRLF at offset \(o)"
        case .invalidInteger(let s, let o): return "RESP: invalid integer '\(s.prefix(40))' at offset \(o)"
        case .invalidDouble(let s, let o): return "RESP: invalid double '\(s.prefix(40))' at offset \(o)"
        case .invalidBoolean(let s, let o): return "RESP: invalid boolean '\(s.prefix(40))' at offset \(o)"
        case .invalidBigNumber(let s, let o): return "RESP: invalid big number '\(s.prefix(40))' at offset \(o)"
        case .invalidVerbatimString(let o): return "RESP: verbatim string without 'xxx:' format at offset \(o)"
        case .lengthOutOfRange(let n, let l, let o): return "RESP: length \(n) out of range (limit \(l)) at offset \(o)"
        case .nestingTooDeep(let l, let o): return "RESP: aggregates nested deeper than \(l) at offset \(o)"
        case .lineTooLong(let l, let o): return "RESP: line longer than \(l) bytes at offset \(o)"
        case .streamedTypesNotSupported(let o): return "RESP: streamed strings/aggregates are not supported (offset \(o))"
        case .truncated(let n): return "RESP: the stream ended inside a frame (\(n) bytes of an incomplete reply)"
        }
    }
}
