/// Why one event was refused: names the field and the problem.
///
/// `description` is the message an API returns (`field`, `message`) and the
/// text a dead-lettered entry carries in its `error` field.
public enum EventValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input is not JSON (or not UTF-8); `detail` says where it broke.
    case malformedJSON(detail: String)
    /// The item is a JSON value other than an object.
    case notAnObject(found: String)
    case missingField(String)
    case wrongType(field: String, expected: String, found: String)
    case unknownType(String)
    case empty(field: String)
    /// A string longer than its limit, both in UTF-8 bytes.
    case tooLong(field: String, bytes: Int, limit: Int)
    /// A label value (`tool`, `code`) holding a character that does not print:
    /// `scalar` is its code point, `kind` says what it is, `byteOffset` where it starts.
    case unprintable(field: String, scalar: UInt32, kind: String, byteOffset: Int)
    case tooManyAttributes(count: Int, limit: Int)
    /// The event's JSON object (as sent, or as it would be stored) is larger than the limit, in bytes.
    case eventTooLarge(bytes: Int, limit: Int)
    case invalidNumber(field: String, value: Double, reason: String)
    case invalidTimestamp(String)
    case timestampOutOfRange(timestamp: Double, now: Double, limit: Double)
    /// A stream entry without an `event` field, or with a `weight` that is not a positive number.
    case malformedEntry(field: String, reason: String)

    /// The offending field (`""` when the whole item is at fault).
    public var field: String {
        switch self {
        case .malformedJSON, .notAnObject, .eventTooLarge: return ""
        case .missingField(let f), .empty(let f): return f
        case .wrongType(let f, _, _), .tooLong(let f, _, _), .invalidNumber(let f, _, _): return f
        case .unprintable(let f, _, _, _): return f
        case .unknownType: return "type"
        case .tooManyAttributes: return "attributes"
        case .invalidTimestamp, .timestampOutOfRange: return "ts"
        case .malformedEntry(let f, _): return f
        }
    }

    public var message: String {
        switch self {
        case .malformedJSON(let detail): return "the body is not valid JSON: \(detail)"
        case .notAnObject(let found): return "each event must be a JSON object, found \(found)"
        case .missingField(let f): return "'\(f)' is required for this event type"
        case .wrongType(let f, let expected, let found): return "'\(f)' must be \(expected), found \(found)"
        case .unknownType(let t): return "'type' \"\(t)\" is not one of completion, tool_call, session_start, session_end, error"
        case .empty(let f): return "'\(f)' must not be empty"
        case .tooLong(let f, let bytes, let limit): return "'\(f)' is \(bytes) bytes of UTF-8, the limit is \(limit) bytes"
        case .unprintable(let f, let scalar, let kind, let offset):
            let code = String(scalar, radix: 16, uppercase: true)
            return "'\(f)' holds U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code) (\(kind)) at byte \(offset); label values must be printable"
        case .tooManyAttributes(let count, let limit): return "'attributes' has \(count) entries, the limit is \(limit)"
        case .eventTooLarge(let bytes, let limit): return "the event's JSON object is \(bytes) bytes, the limit is \(limit) bytes"
        case .invalidNumber(let f, let value, let reason):
            return "'\(f)' is \(value.isFinite ? JSONWriter.decimal(value) : "beyond the range of a 64-bit float"): \(reason)"
        case .invalidTimestamp(let text): return "'ts' \"\(text)\" is neither unix seconds nor an RFC 3339 time"
        case .timestampOutOfRange(let ts, let now, let limit):
            return "'ts' \(ts) is \(Int((ts - now).rounded())) s from the server's time \(Int(now)); the limit is \(Int(limit)) s"
        case .malformedEntry(let f, let reason): return "stream entry field '\(f)': \(reason)"
        }
    }

    public var description: String { message }
}

/// The first bad item of a batch: its position (0-based, in the array or NDJSON lines) and why.
public struct EventBatchError: Error, Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var error: EventValidationError

    public init(index: Int, error: EventValidationError) {
        self.index = index
        self.error = error
    }

    public var field: String { error.field }
    public var message: String { error.message }
    public var description: String { "event \(index): \(error.message)" }
}
