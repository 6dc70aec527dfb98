import Foundation

/// Turns client JSON into validated ``TelemetryEvent``s.
///
/// Accepts one object, a JSON array or NDJSON; a batch is all-or-nothing and
/// the error names the index of the first bad item, its field and the
/// problem. Missing ids get a fresh process-unique id (`EventIDGenerator`), missing timestamps the server's
/// time (`now`). Every bound of ``EventLimits`` is checked: strings in UTF-8
/// bytes, label values (`tool`, `code`) printable, numbers finite and in
/// range, the event's JSON object no larger than `maxEventBytes`. Stateless
/// and `Sendable`.
public struct EventDecoder: Sendable {
    public var limits: EventLimits
    /// The server's clock, unix seconds.
    public var now: @Sendable () -> Double
    /// Whether timestamps beyond the limits' skew are refused (off when re-reading stored events).
    public var checksSkew: Bool
    /// Whether `id` and `ts` must be present (stored events always carry both).
    public var requiresIDAndTimestamp = false
    /// Whether the normalised JSON the log will store is measured against
    /// `maxEventBytes` too, so that whatever ingest accepts fits when a worker
    /// reads it back (off when reading stored entries: their bytes are that form).
    public var measuresNormalisedForm = true

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
            if case .object(let object) = item.value, case .string? = object["id"] { return true }
            return false
        }
        return (try decodeItems(items), clientIDs)
    }

    /// The body's items as JSON values, before validation.
    private func parseItems(_ body: some Collection<UInt8>, format: Format) throws(EventBatchError) -> [JSONParser.Item] {
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
            let items: [JSONParser.Item]
            do {
                items = try JSONParser.parseItems(data)
            } catch {
                throw EventBatchError(index: 0, error: .malformedJSON(detail: error.description))
            }
            return items
        case .ndjson:
            var items: [JSONParser.Item] = []
            // Blank lines are skipped; `index` counts items (non-blank lines).
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                let blank = line.allSatisfy { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                if blank { continue }
                do {
                    items.append(try JSONParser.parseItem(line))
                } catch {
                    throw EventBatchError(index: items.count, error: .malformedJSON(detail: error.description))
                }
            }
            return items
        }
    }

    /// Decodes one JSON object. A flat object (every stored event) is read field by field without a
    /// ``JSONObject``; anything else is parsed in full. Both paths validate the same fields the same way.
    public func decodeEvent(_ json: some Collection<UInt8>) throws(EventValidationError) -> TelemetryEvent {
        let bytes = Array(json)
        var fields = EventFields()
        if let length = JSONParser.parseFlatObject(bytes, { name, value in
            if let field = EventFields.Field(name) { fields[field] = value }
        }) {
            return try decode(fields, bytes: length)
        }
        let item: JSONParser.Item
        do {
            item = try JSONParser.parseItem(bytes)
        } catch {
            throw .malformedJSON(detail: error.description)
        }
        return try decode(item.value, bytes: item.bytes)
    }

    private func decodeItems(_ items: [JSONParser.Item]) throws(EventBatchError) -> [TelemetryEvent] {
        var events: [TelemetryEvent] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                events.append(try decode(item.value, bytes: item.bytes))
            } catch {
                throw EventBatchError(index: index, error: error)
            }
        }
        return events
    }

    /// Validates one item; `bytes` is the length of its JSON text as received (nil: not measured).
    func decode(_ value: JSONValue, bytes: Int? = nil) throws(EventValidationError) -> TelemetryEvent {
        guard case .object(let object) = value else { throw .notAnObject(found: value.kind) }
        return try decode(EventFields(object), bytes: bytes)
    }

    /// Validates the fields of one object; `bytes` is the length of its JSON text as received (nil: not measured).
    private func decode(_ fields: EventFields, bytes: Int?) throws(EventValidationError) -> TelemetryEvent {
        if let bytes, bytes > limits.maxEventBytes { throw .eventTooLarge(bytes: bytes, limit: limits.maxEventBytes) }
        let typeName = try fields.requiredString(.type)
        guard let type = EventType(rawValue: typeName) else { throw .unknownType(typeName) }
        let session = try fields.requiredString(.sessionID)
        try Self.checkSize("session_id", session, limit: limits.maxSessionIDBytes)
        if requiresIDAndTimestamp {
            if fields[.id] ?? .null == .null { throw .missingField("id") }
            if fields[.ts] ?? .null == .null { throw .missingField("ts") }
        }
        let id = try fields.optionalString(.id) ?? EventIDGenerator.shared.next()
        try Self.checkSize("id", id, limit: limits.maxIDBytes)
        var event = TelemetryEvent(id: id, type: type, sessionID: session, timestamp: try timestamp(fields[.ts]))
        switch type {
        case .completion:
            guard let latency = try fields.optionalNumber(.latency) else { throw .missingField("latency_ms") }
            event.latencyMilliseconds = try self.latency(latency)
            guard let accepted = try fields.optionalBool(.accepted) else { throw .missingField("accepted") }
            event.accepted = accepted
        case .toolCall:
            let tool = try fields.requiredString(.tool)
            try Self.checkSize("tool", tool, limit: limits.maxToolBytes)
            try Self.checkPrintable("tool", tool)
            event.tool = tool
            guard let success = try fields.optionalBool(.success) else { throw .missingField("success") }
            event.success = success
        case .error:
            let code = try fields.requiredString(.code)
            try Self.checkSize("code", code, limit: limits.maxCodeBytes)
            try Self.checkPrintable("code", code)
            event.code = code
        case .sessionStart, .sessionEnd:
            break
        }
        event.attributes = try attributes(fields[.attributes])
        if measuresNormalisedForm {
            let stored = EventRecord.encode(event).utf8.count
            if stored > limits.maxEventBytes { throw .eventTooLarge(bytes: stored, limit: limits.maxEventBytes) }
        }
        return event
    }

    /// `latency_ms`: finite, 0…`maxLatencyMilliseconds` (-0 is 0; subnormals are fine).
    private func latency(_ value: Double) throws(EventValidationError) -> Double {
        guard value.isFinite else { throw .invalidNumber(field: "latency_ms", value: value, reason: "must be a finite number") }
        guard value >= 0 else { throw .invalidNumber(field: "latency_ms", value: value, reason: "must be ≥ 0") }
        guard value <= limits.maxLatencyMilliseconds else {
            throw .invalidNumber(field: "latency_ms", value: value, reason: "must be at most \(JSONWriter.decimal(limits.maxLatencyMilliseconds)) (ms)")
        }
        return value == 0 ? 0 : value
    }

    private func timestamp(_ value: JSONValue?) throws(EventValidationError) -> Double {
        let now = self.now()
        var ts: Double
        switch value {
        case nil, .null?:
            return now
        case .number(let n)?:
            guard n.isFinite else { throw .invalidNumber(field: "ts", value: n, reason: "must be a finite number") }
            ts = n
        case .string(let text)?:
            guard let parsed = RFC3339.parse(text) else { throw .invalidTimestamp(text) }
            ts = parsed
        case let other?:
            throw .wrongType(field: "ts", expected: "unix seconds or an RFC 3339 string", found: other.kind)
        }
        if ts == 0 { ts = 0 }  // -0 is 0
        guard limits.timestampRange.contains(ts) else {
            let range = limits.timestampRange
            throw .invalidNumber(
                field: "ts", value: ts,
                reason: "must be unix seconds from \(JSONWriter.decimal(range.lowerBound)) to \(JSONWriter.decimal(range.upperBound))"
            )
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
        case .object(let members)?:
            let object = members.dictionary
            guard object.count <= limits.maxAttributes else { throw .tooManyAttributes(count: object.count, limit: limits.maxAttributes) }
            var result: [String: String] = [:]
            // Name order, so the same object always reports the same first bad attribute.
            for (key, item) in object.sorted(by: { $0.key < $1.key }) {
                let field = "attributes.\(Self.prefix(of: key, bytes: limits.maxAttributeKeyBytes))"
                try Self.checkSize(field, key, limit: limits.maxAttributeKeyBytes)
                guard case .string(let text) = item else { throw .wrongType(field: field, expected: "a string", found: item.kind) }
                try Self.checkSize(field, text, limit: limits.maxAttributeValueBytes, allowEmpty: true)
                result[key] = text
            }
            return result
        case let other?:
            throw .wrongType(field: "attributes", expected: "an object of strings", found: other.kind)
        }
    }

    /// Non-empty (unless allowed) and at most `limit` UTF-8 bytes.
    static func checkSize(_ field: String, _ text: String, limit: Int, allowEmpty: Bool = false) throws(EventValidationError) {
        if !allowEmpty && text.isEmpty { throw .empty(field: field) }
        let bytes = text.utf8.count
        if bytes > limit { throw .tooLong(field: field, bytes: bytes, limit: limit) }
    }

    /// Label values must print as what they are: no control characters (C0,
    /// DEL, C1), no format characters (zero-width joiners and spaces, bidi
    /// controls, the BOM, soft hyphen…) and no line or paragraph separators.
    static func checkPrintable(_ field: String, _ text: String) throws(EventValidationError) {
        // Printable ASCII (space to '~'), the common case, needs no Unicode property lookup.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return }
        var offset = 0
        for scalar in text.unicodeScalars {
            if let kind = Self.unprintableKind(scalar) {
                throw .unprintable(field: field, scalar: scalar.value, kind: kind, byteOffset: offset)
            }
            offset += UTF8.width(scalar)
        }
    }

    /// Why `scalar` cannot be part of a label value, or nil when it can.
    static func unprintableKind(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.properties.generalCategory {
        case .control: return "a control character"
        case .format: return "an invisible format character"
        case .lineSeparator: return "a line separator"
        case .paragraphSeparator: return "a paragraph separator"
        default: return nil
        }
    }

    /// The longest prefix of `text` within `bytes` UTF-8 bytes, cut between scalars (for field names in errors).
    static func prefix(of text: String, bytes: Int) -> String {
        var used = 0
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            used += UTF8.width(scalar)
            if used > bytes { break }
            scalars.append(scalar)
        }
        return String(scalars)
    }
}

/// The members of an event object that the decoder reads (the last value of a name given twice,
/// as in a dictionary; other names are ignored), with typed access whose errors name the field.
private struct EventFields {
    /// A name the decoder reads.
    enum Field: Int, CaseIterable {
        case type, sessionID, id, ts, latency, accepted, tool, success, code, attributes

        /// The name as clients send it.
        var name: String {
            switch self {
            case .type: "type"
            case .sessionID: "session_id"
            case .id: "id"
            case .ts: "ts"
            case .latency: "latency_ms"
            case .accepted: "accepted"
            case .tool: "tool"
            case .success: "success"
            case .code: "code"
            case .attributes: "attributes"
            }
        }

        /// The names' UTF-8 bytes, by field.
        private static let names: [[UInt8]] = allCases.map { Array($0.name.utf8) }

        /// The field named by `bytes` (the name's UTF-8), if the decoder reads it.
        init?(_ bytes: some Collection<UInt8>) {
            for field in Self.allCases where Self.names[field.rawValue].elementsEqual(bytes) {
                self = field
                return
            }
            return nil
        }
    }

    private var values: (JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?)
        = (nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)

    init() {}

    init(_ object: JSONObject) {
        for member in object.members {
            if let field = Field(member.name.utf8) { self[field] = member.value }
        }
    }

    subscript(field: Field) -> JSONValue? {
        get {
            switch field {
            case .type: values.0
            case .sessionID: values.1
            case .id: values.2
            case .ts: values.3
            case .latency: values.4
            case .accepted: values.5
            case .tool: values.6
            case .success: values.7
            case .code: values.8
            case .attributes: values.9
            }
        }
        set {
            switch field {
            case .type: values.0 = newValue
            case .sessionID: values.1 = newValue
            case .id: values.2 = newValue
            case .ts: values.3 = newValue
            case .latency: values.4 = newValue
            case .accepted: values.5 = newValue
            case .tool: values.6 = newValue
            case .success: values.7 = newValue
            case .code: values.8 = newValue
            case .attributes: values.9 = newValue
            }
        }
    }

    func requiredString(_ field: Field) throws(EventValidationError) -> String {
        guard let s = try optionalString(field) else { throw .missingField(field.name) }
        return s
    }

    func optionalString(_ field: Field) throws(EventValidationError) -> String? {
        switch self[field] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?: throw .wrongType(field: field.name, expected: "a string", found: other.kind)
        }
    }

    func optionalNumber(_ field: Field) throws(EventValidationError) -> Double? {
        switch self[field] {
        case nil, .null?: return nil
        case .number(let n)?: return n
        case let other?: throw .wrongType(field: field.name, expected: "a number", found: other.kind)
        }
    }

    func optionalBool(_ field: Field) throws(EventValidationError) -> Bool? {
        switch self[field] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let other?: throw .wrongType(field: field.name, expected: "a boolean", found: other.kind)
        }
    }
}
