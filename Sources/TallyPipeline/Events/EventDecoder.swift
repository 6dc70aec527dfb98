import Foundation

/// Turns client JSON into validated ``TelemetryEvent``s.
///
/// Accepts one object, a JSON array or NDJSON; a batch is all-or-nothing and
/// the error names the index of the first bad item, its field and the
/// problem. Missing ids get a fresh UUID, missing timestamps the server's
/// time (`now`). Stateless and `Sendable`.
public struct EventDecoder: Sendable {
    public var limits: EventLimits
    /// The server's clock, unix seconds.
    public var now: @Sendable () -> Double
    /// Whether timestamps beyond the limits' skew are refused (off when re-reading stored events).
    public var checksSkew: Bool
    /// Whether `id` and `ts` must be present (stored events always carry both).
    public var requiresIDAndTimestamp = false

    public init(limits: EventLimits = .default, checksSkew: Bool = true, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.limits = limits
        self.checksSkew = checksSkew
        self.now = now
    }

    /// The body's format: a JSON object or array, or one JSON object per line.
    public enum Format: Sendable {
        case json
        case ndjson
    }

    /// Decodes a request body into a batch.
    public func decodeBatch(_ body: some Collection<UInt8>, format: Format = .json) throws(EventBatchError) -> [TelemetryEvent] {
        try decodeItems(try parseItems(body, format: format))
    }

    /// Decodes a request body into a batch and says, per event, whether the client gave its `id`
    /// (only those can be deduplicated; the others get a fresh server id).
    public func decodeBatchMarkingClientIDs(_ body: some Collection<UInt8>, format: Format = .json) throws(EventBatchError) -> (events: [TelemetryEvent], clientIDs: [Bool]) {
        let items = try parseItems(body, format: format)
        let clientIDs = items.map { item -> Bool in
            if case .object(let object) = item, case .string? = object["id"] { return true }
            return false
        }
        return (try decodeItems(items), clientIDs)
    }

    /// The body's items as JSON values, before validation.
    private func parseItems(_ body: some Collection<UInt8>, format: Format) throws(EventBatchError) -> [JSONValue] {
        let data = Array(body)
        // Strings must be valid UTF-8; refuse the batch rather than store replacement characters.
        if String(validating: data, as: UTF8.self) == nil {
            var item = 0
            if format == .ndjson {
                // Items are counted as the NDJSON decoder counts them: blank lines are not items.
                for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                    if String(validating: line, as: UTF8.self) == nil { break }
                    if line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r") }) { item += 1 }
                }
            }
            throw EventBatchError(index: item, error: .malformedJSON(detail: "the body is not valid UTF-8"))
        }
        switch format {
        case .json:
            let value: JSONValue
            do {
                value = try JSONParser.parse(data)
            } catch {
                throw EventBatchError(index: 0, error: .malformedJSON(detail: error.description))
            }
            if case .array(let items) = value { return items }
            return [value]
        case .ndjson:
            var items: [JSONValue] = []
            // Blank lines are skipped; `index` counts items (non-blank lines).
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                let blank = line.allSatisfy { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                if blank { continue }
                do {
                    items.append(try JSONParser.parse(line))
                } catch {
                    throw EventBatchError(index: items.count, error: .malformedJSON(detail: error.description))
                }
            }
            return items
        }
    }

    /// Decodes one JSON object.
    public func decodeEvent(_ json: some Collection<UInt8>) throws(EventValidationError) -> TelemetryEvent {
        let value: JSONValue
        do {
            value = try JSONParser.parse(json)
        } catch {
            throw .malformedJSON(detail: error.description)
        }
        return try decode(value)
    }

    private func decodeItems(_ items: [JSONValue]) throws(EventBatchError) -> [TelemetryEvent] {
        var events: [TelemetryEvent] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                events.append(try decode(item))
            } catch {
                throw EventBatchError(index: index, error: error)
            }
        }
        return events
    }

    func decode(_ value: JSONValue) throws(EventValidationError) -> TelemetryEvent {
        guard case .object(let object) = value else { throw .notAnObject(found: value.kind) }
        let fields = FieldReader(object: object)
        let typeName = try fields.requiredString("type")
        guard let type = EventType(rawValue: typeName) else { throw .unknownType(typeName) }
        let session = try fields.requiredString("session_id")
        try Self.checkLength("session_id", session, limit: limits.maxSessionIDLength)
        if requiresIDAndTimestamp {
            if fields.value("id") == nil { throw .missingField("id") }
            if fields.value("ts") == nil { throw .missingField("ts") }
        }
        let id = try fields.optionalString("id") ?? EventIDGenerator.shared.next()
        try Self.checkLength("id", id, limit: limits.maxIDLength)
        var event = TelemetryEvent(id: id, type: type, sessionID: session, timestamp: try timestamp(fields.value("ts")))
        switch type {
        case .completion:
            guard let latency = try fields.optionalNumber("latency_ms") else { throw .missingField("latency_ms") }
            guard latency.isFinite else { throw .invalidNumber(field: "latency_ms", value: latency, reason: "must be finite") }
            guard latency >= 0 else { throw .invalidNumber(field: "latency_ms", value: latency, reason: "must be ≥ 0") }
            event.latencyMilliseconds = latency
            guard let accepted = try fields.optionalBool("accepted") else { throw .missingField("accepted") }
            event.accepted = accepted
        case .toolCall:
            let tool = try fields.requiredString("tool")
            try Self.checkLength("tool", tool, limit: limits.maxToolLength)
            event.tool = tool
            guard let success = try fields.optionalBool("success") else { throw .missingField("success") }
            event.success = success
        case .error:
            let code = try fields.requiredString("code")
            try Self.checkLength("code", code, limit: limits.maxCodeLength)
            event.code = code
        case .sessionStart, .sessionEnd:
            break
        }
        event.attributes = try attributes(fields.value("attributes"))
        return event
    }

    private func timestamp(_ value: JSONValue?) throws(EventValidationError) -> Double {
        let now = self.now()
        let ts: Double
        switch value {
        case nil, .null?:
            return now
        case .number(let n)?:
            guard n.isFinite else { throw .invalidNumber(field: "ts", value: n, reason: "must be finite") }
            ts = n
        case .string(let text)?:
            guard let parsed = RFC3339.parse(text) else { throw .invalidTimestamp(text) }
            ts = parsed
        case let other?:
            throw .wrongType(field: "ts", expected: "unix seconds or an RFC 3339 string", found: other.kind)
        }
        if checksSkew {
            if ts > now + limits.maxFutureSkew { throw .timestampOutOfRange(timestamp: ts, now: now, limit: limits.maxFutureSkew) }
            if ts < now - limits.maxPastSkew { throw .timestampOutOfRange(timestamp: ts, now: now, limit: limits.maxPastSkew) }
        }
        return ts
    }

    private func attributes(_ value: JSONValue?) throws(EventValidationError) -> [String: String] {
        switch value {
        case nil, .null?:
            return [:]
        case .object(let object)?:
            guard object.count <= limits.maxAttributes else { throw .tooManyAttributes(count: object.count, limit: limits.maxAttributes) }
            var result: [String: String] = [:]
            for (key, item) in object {
                let field = "attributes.\(key.prefix(limits.maxAttributeKeyLength))"
                try Self.checkLength(field, key, limit: limits.maxAttributeKeyLength)
                guard case .string(let text) = item else { throw .wrongType(field: field, expected: "a string", found: item.kind) }
                try Self.checkLength(field, text, limit: limits.maxAttributeValueLength, allowEmpty: true)
                result[key] = text
            }
            return result
        case let other?:
            throw .wrongType(field: "attributes", expected: "an object of strings", found: other.kind)
        }
    }

    static func checkLength(_ field: String, _ text: String, limit: Int, allowEmpty: Bool = false) throws(EventValidationError) {
        if !allowEmpty && text.isEmpty { throw .empty(field: field) }
        let length = text.count
        if length > limit { throw .tooLong(field: field, length: length, limit: limit) }
    }
}

/// Typed access to an event object's fields, with errors naming the field.
private struct FieldReader {
    let object: [String: JSONValue]

    func value(_ name: String) -> JSONValue? { object[name] }

    func requiredString(_ name: String) throws(EventValidationError) -> String {
        guard let s = try optionalString(name) else { throw .missingField(name) }
        return s
    }

    func optionalString(_ name: String) throws(EventValidationError) -> String? {
        switch object[name] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?: throw .wrongType(field: name, expected: "a string", found: other.kind)
        }
    }

    func optionalNumber(_ name: String) throws(EventValidationError) -> Double? {
        switch object[name] {
        case nil, .null?: return nil
        case .number(let n)?: return n
        case let other?: throw .wrongType(field: name, expected: "a number", found: other.kind)
        }
    }

    func optionalBool(_ name: String) throws(EventValidationError) -> Bool? {
        switch object[name] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let other?: throw .wrongType(field: name, expected: "a boolean", found: other.kind)
        }
    }
}
