import Foundation

/// An event as the log stores it: the normalised JSON in field `event`, plus
/// `weight` (1/p) when the event was sampled with probability p.
///
/// `init(entryFields:)` treats the fields as untrusted: anything that does not
/// decode to a valid event is a poison entry and throws an
/// ``EventValidationError`` naming the field.
public struct EventRecord: Sendable, Hashable {
    public var event: TelemetryEvent
    public var weight: Double

    public init(event: TelemetryEvent, weight: Double = 1) {
        self.event = event
        self.weight = weight
    }

    /// The stream fields: `event` (normalised JSON, keys sorted) and `weight` when ≠ 1.
    public var fields: [(name: String, value: String)] {
        var result = [(name: "event", value: Self.encode(event))]
        if weight != 1 { result.append((name: "weight", value: String(weight))) }
        return result
    }

    /// Decodes stored fields (id and ts are already filled in, so the skew is not checked again).
    public init(entryFields: [(name: String, value: String)], limits: EventLimits = .default) throws(EventValidationError) {
        guard let json = entryFields.first(where: { $0.name == "event" })?.value else {
            throw .malformedEntry(field: "event", reason: "missing")
        }
        var decoder = EventDecoder(limits: limits, checksSkew: false, now: { 0 })
        decoder.requiresIDAndTimestamp = true
        let event = try decoder.decodeEvent(Array(json.utf8))
        var weight = 1.0
        if let text = entryFields.first(where: { $0.name == "weight" })?.value {
            guard let w = Double(text), w.isFinite, w >= 1 else {
                throw .malformedEntry(field: "weight", reason: "\"\(text)\" is not a number ≥ 1")
            }
            weight = w
        }
        self.init(event: event, weight: weight)
    }

    /// The normalised JSON of an event.
    public static func encode(_ event: TelemetryEvent) -> String {
        let stored = StoredEvent(event)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, numbers and booleans cannot fail.
        let data = (try? encoder.encode(stored)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The JSON shape of a stored event (the client's field names).
private struct StoredEvent: Encodable {
    let event: TelemetryEvent

    init(_ event: TelemetryEvent) { self.event = event }

    enum Keys: String, CodingKey {
        case id, type, session_id, ts, latency_ms, accepted, tool, success, code, attributes
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(event.id, forKey: .id)
        try c.encode(event.type.rawValue, forKey: .type)
        try c.encode(event.sessionID, forKey: .session_id)
        try c.encode(event.timestamp, forKey: .ts)
        try c.encodeIfPresent(event.latencyMilliseconds, forKey: .latency_ms)
        try c.encodeIfPresent(event.accepted, forKey: .accepted)
        try c.encodeIfPresent(event.tool, forKey: .tool)
        try c.encodeIfPresent(event.success, forKey: .success)
        try c.encodeIfPresent(event.code, forKey: .code)
        if !event.attributes.isEmpty { try c.encode(event.attributes, forKey: .attributes) }
    }
}
