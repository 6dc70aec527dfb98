/// A small, strict JSON parser (RFC 8259) into ``JSONValue``.
///
/// Written for the hot path (every stored event is parsed once per delivery):
/// one pass over the bytes, no intermediate errors for type probing, nesting
/// bounded to 64 levels. Errors say what was expected and at which byte offset.
struct JSONParser {
    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let expected: String
        var description: String { "expected \(expected) at byte \(offset)" }
    }

    static let maxDepth = 64

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// A parsed value and the length of its JSON text in the input, in bytes.
    struct Item {
        let value: JSONValue
        let bytes: Int
    }

    /// Parses exactly one JSON value (surrounded by optional whitespace).
    static func parse(_ input: some Collection<UInt8>) throws(Failure) -> JSONValue {
        try parseItem(input).value
    }

    /// Parses exactly one JSON value and measures its text (surrounding whitespace excluded).
    static func parseItem(_ input: some Collection<UInt8>) throws(Failure) -> Item {
        var parser = JSONParser(Array(input))
        parser.skipWhitespace()
        let start = parser.index
        let value = try parser.value(depth: 0)
        let item = Item(value: value, bytes: parser.index - start)
        try parser.expectEnd()
        return item
    }

    /// Parses exactly one JSON value; an array gives its elements, each measured
    /// (a batch's items), anything else gives itself.
    static func parseItems(_ input: some Collection<UInt8>) throws(Failure) -> [Item] {
        var parser = JSONParser(Array(input))
        parser.skipWhitespace()
        let items: [Item]
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "[") {
            var spans: [Int]? = []
            let values = try parser.elements(depth: 1, spans: &spans)
            items = zip(values, spans ?? []).map { Item(value: $0, bytes: $1) }
        } else {
            let start = parser.index
            let value = try parser.value(depth: 0)
            items = [Item(value: value, bytes: parser.index - start)]
        }
        try parser.expectEnd()
        return items
    }

    /// Parses `input` when it is exactly one object whose members are all scalars (strings without
    /// escapes, numbers, booleans, null), handing each member to `member` in order, and returns the
    /// object's length in bytes (surrounding whitespace excluded); nil for anything else, which the
    /// caller then parses in full (``parseItem(_:)``), with its errors. Every event a worker reads
    /// back is such an object: this path builds no ``JSONObject`` for it.
    static func parseFlatObject(_ input: [UInt8], _ member: (ArraySlice<UInt8>, JSONValue) -> Void) -> Int? {
        var parser = JSONParser(input)
        parser.skipWhitespace()
        let start = parser.index
        guard parser.index < input.count, input[parser.index] == UInt8(ascii: "{") else { return nil }
        parser.index += 1
        parser.skipWhitespace()
        if parser.index < input.count, input[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                parser.skipWhitespace()
                // The name as bytes: the caller matches it against the names it knows.
                guard parser.index < input.count, input[parser.index] == UInt8(ascii: "\"") else { return nil }
                let keyStart = parser.index + 1
                guard parser.plainString(decoding: false) != nil else { return nil }
                let key = input[keyStart..<(parser.index - 1)]
                parser.skipWhitespace()
                guard parser.index < input.count, input[parser.index] == UInt8(ascii: ":") else { return nil }
                parser.index += 1
                parser.skipWhitespace()
                guard parser.index < input.count else { return nil }
                let value: JSONValue
                switch input[parser.index] {
                case UInt8(ascii: "\""):
                    guard let text = parser.plainString() else { return nil }
                    value = .string(text)
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard let number = try? parser.number() else { return nil }
                    value = .number(number)
                case UInt8(ascii: "t"):
                    guard (try? parser.literal("true")) != nil else { return nil }
                    value = .bool(true)
                case UInt8(ascii: "f"):
                    guard (try? parser.literal("false")) != nil else { return nil }
                    value = .bool(false)
                case UInt8(ascii: "n"):
                    guard (try? parser.literal("null")) != nil else { return nil }
                    value = .null
                default:
                    return nil
                }
                member(key, value)
                parser.skipWhitespace()
                guard parser.index < input.count else { return nil }
                if input[parser.index] == UInt8(ascii: ",") {
                    parser.index += 1
                } else if input[parser.index] == UInt8(ascii: "}") {
                    parser.index += 1
                    break
                } else {
                    return nil
                }
            }
        }
        let length = parser.index - start
        parser.skipWhitespace()
        return parser.index == input.count ? length : nil
    }

    /// A string at `index` with no escape and no control character, decoded as ``string()`` would
    /// (or "" when not `decoding`: only skipped); nil for anything else, with `index` at the escape
    /// or control character that stopped it, or at the end of the input.
    private mutating func plainString(decoding: Bool = true) -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = decoding ? String(decoding: bytes[start..<index], as: UTF8.self) : ""
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    private mutating func expectEnd() throws(Failure) {
        skipWhitespace()
        guard index == bytes.count else { throw fail("the end of the input") }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private func fail(_ expected: String) -> Failure { Failure(offset: index, expected: expected) }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw fail("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw fail("at most \(Self.maxDepth) levels of nesting") }
            return try object(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw fail("at most \(Self.maxDepth) levels of nesting") }
            return try array(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try number())
        default:
            throw fail("a value")
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        for expected in word.utf8 {
            guard index < bytes.count, bytes[index] == expected else { throw fail("'\(word)'") }
            index += 1
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        // An event has up to 10 members: room for them at once, not four regrowths of the array.
        var result = JSONObject(capacity: 10)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(result)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("a string key") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("':'") }
            index += 1
            skipWhitespace()
            result.append(key, try value(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw fail("',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(result)
            } else {
                throw fail("',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        var spans: [Int]?
        return .array(try elements(depth: depth, spans: &spans))
    }

    /// An array's elements; with `spans`, also each element's length in bytes.
    private mutating func elements(depth: Int, spans: inout [Int]?) throws(Failure) -> [JSONValue] {
        index += 1
        var result: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return result
        }
        while true {
            skipWhitespace()
            let start = index
            result.append(try value(depth: depth))
            spans?.append(index - start)
            skipWhitespace()
            guard index < bytes.count else { throw fail("',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return result
            } else {
                throw fail("',' or ']'")
            }
        }
    }

    private mutating func string() throws(Failure) -> String {
        let start = index + 1  // past the opening quote
        // Fast path: no escapes.
        if let text = plainString() { return text }
        // It stopped at an escape, a control character or the end of the input: the loop below
        // goes on from there (and refuses the last two).
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw fail("an escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        // A high surrogate must be followed by \u and a low surrogate.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw fail("a low surrogate")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("a low surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw fail("a high surrogate before a low one")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("a Unicode scalar") }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw fail("a valid escape")
                }
            default:
                guard byte >= 0x20 else { throw fail("no control characters in a string") }
                scalars.append(byte)
                index += 1
            }
        }
        throw fail("'\"'")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("4 hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("4 hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func number() throws(Failure) -> Double {
        let start = index
        // The digits read, as an integer (exact while it stays at most 2^53: up to 19 digits fit in a UInt64).
        var mantissa: UInt64 = 0
        var significant = 0
        var fractionDigits = 0
        func digits(counting fraction: Bool = false) -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if mantissa != 0 || bytes[index] != UInt8(ascii: "0") { significant += 1 }
                if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            if fraction { fractionDigits += index - from }
            return index - from
        }
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.count else { throw fail("a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw fail("a digit")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(counting: true) > 0 else { throw fail("a digit after '.'") }
        }
        var exponent = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            exponent = true
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let from = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            guard index > from else { throw fail("a digit in the exponent") }
        }
        // Most numbers of an event (times to the microsecond, latencies) have at most 16 significant
        // digits and no exponent: when the integer of their digits is at most 2^53 it is an exact
        // Double, as is a power of ten up to 10^22, so one division gives the correctly rounded
        // value, as strtod would (Clinger's fast path). Anything else goes to strtod.
        if !exponent, significant <= 19, mantissa <= 1 << 53, fractionDigits <= 22 {
            let magnitude = Double(mantissa) / Self.powersOfTen[fractionDigits]
            return negative ? -magnitude : magnitude
        }
        guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else { throw Failure(offset: start, expected: "a number") }
        return value
    }

    /// 10^0 … 10^22, each exactly representable as a Double.
    private static let powersOfTen: [Double] = (0...22).map { exponent in (0..<exponent).reduce(1.0) { value, _ in value * 10 } }
}
