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

    /// The largest weight a stored entry may carry: 10⁶, the weight of an event
    /// kept with probability 10⁻⁶, the lowest probability a sampler may use
    /// (``SamplerConfiguration``). It bounds what one event adds to a sum.
    public static let maxWeight: Double = 1_000_000

    /// Decodes stored fields with every check of ingest but the skew (id and ts
    /// are already filled in, and time has passed since): sizes in UTF-8 bytes,
    /// printable label values, finite numbers in range, the stored JSON within
    /// `maxEventBytes`. The entry holds `event` once and `weight` (a number
    /// from 1 to ``maxWeight``) at most once, and no other field.
    public init(entryFields: [(name: String, value: String)], limits: EventLimits = .default) throws(EventValidationError) {
        var json: String? = nil
        var weightText: String? = nil
        var stray: String? = nil
        for field in entryFields {
            switch field.name {
            case "event":
                guard json == nil else { throw .malformedEntry(field: "event", reason: "appears more than once") }
                json = field.value
            case "weight":
                guard weightText == nil else { throw .malformedEntry(field: "weight", reason: "appears more than once") }
                weightText = field.value
            default:
                if stray == nil { stray = field.name }
            }
        }
        guard let json else { throw .malformedEntry(field: "event", reason: "missing") }
        if let stray {
            throw .malformedEntry(field: String(decoding: stray.utf8.prefix(64), as: UTF8.self), reason: "is not a field of an event entry (only 'event' and 'weight' are; the entry has \(entryFields.count))")
        }
        var decoder = EventDecoder(limits: limits, checksSkew: false, now: { 0 })
        decoder.requiresIDAndTimestamp = true
        decoder.measuresNormalisedForm = false
        let event = try decoder.decodeEvent(Array(json.utf8))
        var weight = 1.0
        if let text = weightText {
            guard let w = Double(text), w >= 1, w <= Self.maxWeight else {  // false for NaN
                throw .malformedEntry(field: "weight", reason: "\"\(text.prefix(40))\" is not a number from 1 to \(Int(Self.maxWeight))")
            }
            weight = w
        }
        self.init(event: event, weight: weight)
    }

    /// The normalised JSON of an event: the client's field names, keys sorted, absent fields left out.
    public static func encode(_ event: TelemetryEvent) -> String {
        var out = JSONWriter()
        out.begin()
        if let accepted = event.accepted { out.key("accepted"); out.bool(accepted) }
        if !event.attributes.isEmpty {
            out.key("attributes")
            out.begin()
            for (name, value) in event.attributes.sorted(by: { $0.key < $1.key }) {
                out.key(name)
                out.string(value)
            }
            out.end()
        }
        if let code = event.code { out.key("code"); out.string(code) }
        out.key("id"); out.string(event.id)
        if let latency = event.latencyMilliseconds { out.key("latency_ms"); out.number(latency) }
        out.key("session_id"); out.string(event.sessionID)
        if let success = event.success { out.key("success"); out.bool(success) }
        if let tool = event.tool { out.key("tool"); out.string(tool) }
        out.key("ts"); out.number(event.timestamp)
        out.key("type"); out.string(event.type.rawValue)
        out.end()
        return out.text
    }
}
