import Testing
@testable import TallyPipeline

@Suite struct EventRecordTests {
    @Test func aRecordRoundTripsThroughItsStreamFields() throws {
        let event = TelemetryEvent(id: "e1", type: .toolCall, sessionID: "s/1", timestamp: 1_800_000_000.125, tool: "grep", success: true, attributes: ["a": "b"])
        let record = EventRecord(event: event, weight: 4)
        #expect(record.fields.map(\.name) == ["event", "weight"])
        #expect(try EventRecord(entryFields: record.fields) == record)
        #expect(EventRecord(event: event).fields.count == 1)
    }

    @Test func stringsThatNeedEscapingRoundTrip() throws {
        let awkward = "quote \" backslash \\ newline \n tab \t bell \u{07} é 😀"
        let event = TelemetryEvent(id: awkward, type: .error, sessionID: "s\"1", timestamp: 5, code: "c\\d", attributes: [awkward: awkward])
        let record = EventRecord(event: event)
        #expect(record.fields[0].value.contains(#"\u0007"#))
        #expect(try EventRecord(entryFields: record.fields) == record)
    }

    @Test func theStoredJSONIsNormalisedWithSortedKeys() {
        let json = EventRecord.encode(.sessionStart(id: "e", session: "s", at: 5))
        #expect(json == #"{"id":"e","session_id":"s","ts":5,"type":"session_start"}"#)
    }

    static let valid = #"{"id":"e","type":"session_start","session_id":"s","ts":5}"#

    @Test func theLargestWeightIsAccepted() throws {
        let record = try EventRecord(entryFields: [(name: "event", value: Self.valid), (name: "weight", value: "1000000")])
        #expect(record.weight == EventRecord.maxWeight)
        // The sampler's lowest probability gives a weight within the bound.
        #expect(1 / SamplerConfiguration.default.minimumProbability <= EventRecord.maxWeight)
        #expect(throws: SamplerConfigurationError.self) { try SamplerConfiguration(minimumProbability: 1e-7) }
        #expect(1 / (try SamplerConfiguration(minimumProbability: 1e-6)).minimumProbability <= EventRecord.maxWeight)
    }

    /// "s" and 64 combining accents: one character, 129 bytes.
    static let accentedSession = #"{"id":"e","type":"session_start","session_id":"s"# + String(repeating: #"\u0301"#, count: 64) + #"","ts":5}"#
    static let oversize = #"{"id":"e","type":"session_start","session_id":"s","ts":5,"x":""# + String(repeating: "x", count: 8_200) + #""}"#

    @Test(arguments: [
        ([("other", "x")], "event"),
        ([("event", "{not json")], ""),
        ([("event", #"{"type":"session_start","session_id":"s","ts":5}"#)], "id"),
        ([("event", #"{"id":"e","type":"session_start","session_id":"s"}"#)], "ts"),
        ([("event", #"{"id":"e","type":"session_start","session_id":"s","ts":5}"#), ("weight", "0.5")], "weight"),
        ([("event", #"{"id":"e","type":"session_start","session_id":"s","ts":null}"#)], "ts"),
        ([("event", #"{"id":null,"type":"session_start","session_id":"s","ts":5}"#)], "id"),
        // The bounds of ingest hold for stored entries too (only the skew is not checked again).
        ([("event", #"{"id":"e","type":"completion","session_id":"s","ts":5,"latency_ms":1e308,"accepted":true}"#)], "latency_ms"),
        ([("event", #"{"id":"e","type":"completion","session_id":"s","ts":5,"latency_ms":1e400,"accepted":true}"#)], "latency_ms"),
        ([("event", #"{"id":"e","type":"completion","session_id":"s","ts":5,"latency_ms":-3,"accepted":true}"#)], "latency_ms"),
        ([("event", #"{"id":"e","type":"session_start","session_id":"s","ts":1e300}"#)], "ts"),
        ([("event", #"{"id":"e","type":"session_start","session_id":"s","ts":-5}"#)], "ts"),
        ([("event", #"{"id":"e","type":"tool_call","session_id":"s","ts":5,"tool":"a\u0000b","success":true}"#)], "tool"),
        ([("event", #"{"id":"e","type":"error","session_id":"s","ts":5,"code":"\u202e42"}"#)], "code"),
        ([("event", Self.accentedSession)], "session_id"),
        ([("event", Self.oversize)], ""),
        // Weights are bounded (1…10⁶) so that no entry can make a sum overflow; an entry holds
        // `event` once, `weight` at most once, and nothing else.
        ([("event", Self.valid), ("weight", "1e300")], "weight"),
        ([("event", Self.valid), ("weight", "1000000.5")], "weight"),
        ([("event", Self.valid), ("weight", "inf")], "weight"),
        ([("event", Self.valid), ("weight", "nan")], "weight"),
        ([("event", Self.valid), ("weight", "")], "weight"),
        ([("event", Self.valid), ("weight", "2"), ("weight", "2")], "weight"),
        ([("event", Self.valid), ("event", Self.valid)], "event"),
        ([("event", Self.valid), ("source", "test")], "source"),
        ([("weight", "2"), ("other", "x")], "event"),
    ])
    func poisonEntriesThrowNamingTheField(fields: [(String, String)], field: String) {
        do {
            _ = try EventRecord(entryFields: fields.map { (name: $0.0, value: $0.1) })
            Issue.record("accepted \(fields)")
        } catch {
            #expect(error.field == field)
        }
    }
}
