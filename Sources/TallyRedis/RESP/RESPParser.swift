import NIOCore

/// Parses one RESP2/RESP3 frame from the front of a buffer.
///
/// Stateless between calls: when the frame is incomplete it returns `nil`
/// and leaves the buffer untouched, so any split of the bytes works. Every
/// length, count, depth and line is bounded by `RESPLimits`; malformed input
/// throws `RESPDecodingError` and never traps. Bulk payloads are slices of
/// the input buffer (no copy).
struct RESPParser {
    private let bytes: UnsafeRawBufferPointer
    private let source: ByteBuffer
    private let limits: RESPLimits
    private var offset = 0

    /// Parses one frame; `nil` means "need more bytes" and the buffer is unchanged.
    static func parseFrame(_ buffer: inout ByteBuffer, limits: RESPLimits = .default) throws -> RESPFrame? {
        let source = buffer
        let parsed: (RESPFrame, Int)? = try source.withUnsafeReadableBytes { bytes in
            var parser = RESPParser(bytes: bytes, source: source, limits: limits)
            guard let frame = try parser.frame() else { return nil }
            return (frame, parser.offset)
        }
        guard let (frame, consumed) = parsed else { return nil }
        buffer.moveReaderIndex(forwardBy: consumed)
        return frame
    }

    private init(bytes: UnsafeRawBufferPointer, source: ByteBuffer, limits: RESPLimits) {
        self.bytes = bytes
        self.source = source
        self.limits = limits
    }

    private mutating func frame() throws -> RESPFrame? {
        guard offset < bytes.count else { return nil }
        if bytes[offset] == UInt8(ascii: ">") {
            let start = offset
            offset += 1
            guard let count = try count(start: start) else { return nil }
            guard let elements = try elements(count, depth: 1) else { return nil }
            return .push(elements)
        }
        guard let value = try value(depth: 0) else { return nil }
        return .reply(value)
    }

    private mutating func value(depth: Int) throws -> RESPValue? {
        guard offset < bytes.count else { return nil }
        let start = offset
        let type = bytes[offset]
        offset += 1
        switch type {
        case UInt8(ascii: "+"):
            guard let line = try line() else { return nil }
            return .simpleString(text(line))
        case UInt8(ascii: "-"):
            guard let line = try line() else { return nil }
            return .error(text(line))
        case UInt8(ascii: ":"):
            guard let line = try line() else { return nil }
            return .integer(try integer(line, at: start))
        case UInt8(ascii: "$"):
            guard let payload = try bulk(start: start) else { return nil }
            return payload.map { .bulkString($0) } ?? .null
        case UInt8(ascii: "!"):
            guard let payload = try bulk(start: start) else { return nil }
            return .error(payload.map { String(buffer: $0) } ?? "")
        case UInt8(ascii: "="):
            guard let payload = try bulk(start: start) else { return nil }
            guard var body = payload, body.readableBytes >= 4, body.getInteger(at: body.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":") else {
                throw RESPDecodingError.invalidVerbatimString(offset: start)
            }
            let format = body.readString(length: 3) ?? ""
            body.moveReaderIndex(forwardBy: 1)
            return .verbatimString(format: format, body)
        case UInt8(ascii: "_"):
            guard let line = try line() else { return nil }
            guard line.isEmpty else { throw RESPDecodingError.missingCRLF(offset: start) }
            return .null
        case UInt8(ascii: ","):
            guard let line = try line() else { return nil }
            let s = text(line)
            switch s.lowercased() {
            case "inf", "+inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan", "-nan": return .double(.nan)
            default:
                guard let d = Double(s), d.isFinite else { throw RESPDecodingError.invalidDouble(s, offset: start) }
                return .double(d)
            }
        case UInt8(ascii: "#"):
            guard let line = try line() else { return nil }
            if line.count == 1 && bytes[line.lowerBound] == UInt8(ascii: "t") { return .boolean(true) }
            if line.count == 1 && bytes[line.lowerBound] == UInt8(ascii: "f") { return .boolean(false) }
            throw RESPDecodingError.invalidBoolean(text(line), offset: start)
        case UInt8(ascii: "("):
            guard let line = try line() else { return nil }
            let s = text(line)
            let digits = s.first == "-" || s.first == "+" ? s.dropFirst() : Substring(s)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw RESPDecodingError.invalidBigNumber(s, offset: start)
            }
            return .bigNumber(s)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: "%"):
            guard depth < limits.maxDepth else { throw RESPDecodingError.nestingTooDeep(limit: limits.maxDepth, offset: start) }
            if type == UInt8(ascii: "*"), let nullCheck = try peekNullAggregate() {
                return nullCheck ? .null : nil
            }
            guard let count = try count(start: start) else { return nil }
            if type == UInt8(ascii: "%") {
                guard count <= limits.maxAggregateCount / 2 else {
                    throw RESPDecodingError.lengthOutOfRange(Int64(count), limit: limits.maxAggregateCount / 2, offset: start)
                }
                guard let flat = try elements(count * 2, depth: depth + 1) else { return nil }
                var entries: [RESPMapEntry] = []
                entries.reserveCapacity(count)
                for i in stride(from: 0, to: flat.count, by: 2) {
                    entries.append(RESPMapEntry(key: flat[i], value: flat[i + 1]))
                }
                return .map(entries)
            }
            guard let elements = try elements(count, depth: depth + 1) else { return nil }
            return type == UInt8(ascii: "~") ? .set(elements) : .array(elements)
        case UInt8(ascii: "|"):
            // Attributes describe the value that follows; Tally skips them.
            guard depth < limits.maxDepth else { throw RESPDecodingError.nestingTooDeep(limit: limits.maxDepth, offset: start) }
            guard let count = try count(start: start) else { return nil }
            guard count <= limits.maxAggregateCount / 2 else {
                throw RESPDecodingError.lengthOutOfRange(Int64(count), limit: limits.maxAggregateCount / 2, offset: start)
            }
            guard try elements(count * 2, depth: depth + 1) != nil else { return nil }
            return try value(depth: depth + 1)
        default:
            throw RESPDecodingError.invalidTypeByte(type, offset: start)
        }
    }

    /// RESP2 null array `*-1\r\n`: `true` when consumed, `false` when incomplete, `nil` when the count is not negative (nothing consumed).
    private mutating func peekNullAggregate() throws -> Bool? {
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "-") else { return nil }
        let start = offset - 1
        guard let line = try line() else { return false }
        let n = try integer(line, at: start)
        guard n == -1 else { throw RESPDecodingError.lengthOutOfRange(n, limit: limits.maxAggregateCount, offset: start) }
        return true
    }

    private mutating func elements(_ count: Int, depth: Int) throws -> [RESPValue]? {
        var result: [RESPValue] = []
        // Never reserve more than the bytes present could hold (each element takes ≥ 3 bytes).
        result.reserveCapacity(min(count, (bytes.count - offset) / 3 + 1))
        for _ in 0..<count {
            guard let element = try value(depth: depth) else { return nil }
            result.append(element)
        }
        return result
    }

    private mutating func count(start: Int) throws -> Int? {
        guard let line = try line() else { return nil }
        if line.count == 1 && bytes[line.lowerBound] == UInt8(ascii: "?") {
            throw RESPDecodingError.streamedTypesNotSupported(offset: start)
        }
        let n = try integer(line, at: start)
        guard n >= 0, n <= limits.maxAggregateCount else {
            throw RESPDecodingError.lengthOutOfRange(n, limit: limits.maxAggregateCount, offset: start)
        }
        return Int(n)
    }

    /// `.some(nil)` is a RESP2 null bulk string; `nil` means incomplete.
    private mutating func bulk(start: Int) throws -> ByteBuffer?? {
        guard let line = try line() else { return nil }
        if line.count == 1 && bytes[line.lowerBound] == UInt8(ascii: "?") {
            throw RESPDecodingError.streamedTypesNotSupported(offset: start)
        }
        let n = try integer(line, at: start)
        if n == -1 { return .some(nil) }
        guard n >= 0, n <= limits.maxBulkLength else {
            throw RESPDecodingError.lengthOutOfRange(n, limit: limits.maxBulkLength, offset: start)
        }
        let length = Int(n)
        guard bytes.count - offset >= length + 2 else { return nil }
        guard bytes[offset + length] == 13, bytes[offset + length + 1] == 10 else {
            throw RESPDecodingError.missingCRLF(offset: offset + length)
        }
        let slice = source.getSlice(at: source.readerIndex + offset, length: length)!
        offset += length + 2
        return .some(slice)
    }

    /// The bytes up to CRLF (exclusive); advances past the CRLF. `nil` when incomplete.
    private mutating func line() throws -> Range<Int>? {
        let start = offset
        let end = min(bytes.count, start + limits.maxLineLength + 1)
        var i = start
        while i < end {
            if bytes[i] == 13 {
                guard i + 1 < bytes.count else { return nil }
                guard bytes[i + 1] == 10 else { throw RESPDecodingError.missingCRLF(offset: i) }
                offset = i + 2
                return start..<i
            }
            if bytes[i] == 10 { throw RESPDecodingError.missingCRLF(offset: i) }
            i += 1
        }
        if end - start > limits.maxLineLength {
            throw RESPDecodingError.lineTooLong(limit: limits.maxLineLength, offset: start)
        }
        return nil
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func integer(_ range: Range<Int>, at start: Int) throws -> Int64 {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < range.upperBound else { throw RESPDecodingError.invalidInteger(text(range), offset: start) }
        var value: Int64 = 0
        while i < range.upperBound {
            let d = bytes[i]
            guard d >= 48 && d <= 57 else { throw RESPDecodingError.invalidInteger(text(range), offset: start) }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d - 48)) : m.addingReportingOverflow(Int64(d - 48))
            guard !o1 && !o2 else { throw RESPDecodingError.invalidInteger(text(range), offset: start) }
            value = s
            i += 1
        }
        return value
    }
}
