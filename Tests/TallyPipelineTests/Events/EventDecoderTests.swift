import Foundation
import Testing
@testable import TallyPipeline

@Suite struct EventDecoderTests {
    static let now = 1_800_000_000.0
    let decoder = EventDecoder(now: { EventDecoderTests.now })

    func decode(_ json: String) throws(EventBatchError) -> [TelemetryEvent] {
        try decoder.decodeBatch(Array(json.utf8))
    }

    func failure(_ json: String, format: EventDecoder.Format = .json) -> EventBatchError? {
        do {
            _ = try decoder.decodeBatch(Array(json.utf8), format: format)
            return nil
        } catch {
            return error
        }
    }

    @Test func aCompletionDecodesWithEveryField() throws {
        let events = try decode(#"{"id":"e1","type":"completion","session_id":"s1","ts":1799999990,"latency_ms":120.5,"accepted":true,"attributes":{"model":"m"}}"#)
        #expect(events == [TelemetryEvent(id: "e1", type: .completion, sessionID: "s1", timestamp: 1_799_999_990, latencyMilliseconds: 120.5, accepted: true, attributes: ["model": "m"])])
    }

    @Test func missingIDAndTimestampAreAssignedByTheServer() throws {
        let event = try #require(try decode(#"{"type":"session_start","session_id":"s1"}"#).first)
        #expect(event.timestamp == Self.now)
        #expect(!event.id.isEmpty && event.id.count <= 64)
        // Every assigned id is distinct, within a batch and across batches.
        let line = #"{"type":"session_start","session_id":"s1"}"#
        let ids = try (0..<10).flatMap { _ in try decoder.decodeBatch(Array(Array(repeating: line, count: 1000).joined(separator: "\n").utf8), format: .ndjson).map(\.id) }
        #expect(Set(ids).count == 10_000)
    }

    @Test func rfc3339TimestampsWithAndWithoutFractionsAndOffsetsParse() throws {
        let base = #"{"type":"session_start","session_id":"s","ts":"#
        #expect(try decode(base + #""2027-01-15T08:00:00Z"}"#)[0].timestamp == 1_800_000_000)
        #expect(try decode(base + #""2027-01-15T08:00:00.250Z"}"#)[0].timestamp == 1_800_000_000.25)
        #expect(try decode(base + #""2027-01-15T09:00:00+01:00"}"#)[0].timestamp == 1_800_000_000)
    }

    @Test func anArrayAndNDJSONDecodeIntoOneBatch() throws {
        let one = #"{"type":"tool_call","session_id":"s","tool":"grep","success":false}"#
        #expect(try decode("[\(one),\(one)]").count == 2)
        let ndjson = try decoder.decodeBatch(Array("\(one)\n\n\(one)\r\n".utf8), format: .ndjson)
        #expect(ndjson.map(\.tool) == ["grep", "grep"])
    }

    @Test func theFirstBadItemOfABatchIsNamedByIndex() {
        let good = #"{"type":"session_start","session_id":"s"}"#
        let bad = #"{"type":"completion","session_id":"s","accepted":true}"#
        let error = failure("[\(good),\(good),\(bad),\(bad)]")
        #expect(error?.index == 2)
        #expect(error?.field == "latency_ms")
        let line = failure("\(good)\n\n{oops\n", format: .ndjson)
        #expect(line?.index == 1)
        let field = failure("\(good)\n\n\(good)\n\(bad)\n", format: .ndjson)
        #expect(field?.index == 2 && field?.field == "latency_ms")
    }

    @Test(arguments: [
        (#"{"session_id":"s"}"#, "type"),
        (#"{"type":"launch","session_id":"s"}"#, "type"),
        (#"{"type":7,"session_id":"s"}"#, "type"),
        (#"{"type":"session_start"}"#, "session_id"),
        (#"{"type":"session_start","session_id":""}"#, "session_id"),
        (#"{"type":"session_start","session_id":12}"#, "session_id"),
        (#"{"type":"completion","session_id":"s","accepted":true}"#, "latency_ms"),
        (#"{"type":"completion","session_id":"s","latency_ms":"5","accepted":true}"#, "latency_ms"),
        (#"{"type":"completion","session_id":"s","latency_ms":-1,"accepted":true}"#, "latency_ms"),
        (#"{"type":"completion","session_id":"s","latency_ms":5}"#, "accepted"),
        (#"{"type":"completion","session_id":"s","latency_ms":5,"accepted":1}"#, "accepted"),
        (#"{"type":"tool_call","session_id":"s","success":true}"#, "tool"),
        (#"{"type":"tool_call","session_id":"s","tool":"grep"}"#, "success"),
        (#"{"type":"tool_call","session_id":"s","tool":"grep","success":"yes"}"#, "success"),
        (#"{"type":"error","session_id":"s"}"#, "code"),
        (#"{"type":"session_start","session_id":"s","ts":true}"#, "ts"),
        (#"{"type":"session_start","session_id":"s","ts":"yesterday"}"#, "ts"),
        (#"{"type":"session_start","session_id":"s","ts":1900000000}"#, "ts"),
        (#"{"type":"session_start","session_id":"s","ts":1000}"#, "ts"),
        (#"{"type":"session_start","session_id":"s","attributes":[]}"#, "attributes"),
        (#"{"type":"session_start","session_id":"s","attributes":{"k":1}}"#, "attributes.k"),
        (#"{"type":"session_start","session_id":"s","id":5}"#, "id"),
        (#"[1]"#, ""),
        (#"{"type":"#, ""),
    ])
    func invalidEventsAreRefusedNamingTheField(json: String, field: String) {
        let error = failure(json)
        #expect(error?.field == field, "\(json): \(String(describing: error))")
        #expect(error?.index == 0)
    }

    @Test func overLongStringsAreRefusedWithTheirLengthAndLimit() {
        let long = String(repeating: "x", count: 65)
        let cases: [(String, String)] = [
            (#"{"type":"session_start","session_id":"\#(String(repeating: "s", count: 129))"}"#, "session_id"),
            (#"{"type":"session_start","session_id":"s","id":"\#(long)"}"#, "id"),
            (#"{"type":"tool_call","session_id":"s","tool":"\#(long)","success":true}"#, "tool"),
            (#"{"type":"error","session_id":"s","code":"\#(long)"}"#, "code"),
            (#"{"type":"session_start","session_id":"s","attributes":{"k":"\#(String(repeating: "v", count: 257))"}}"#, "attributes.k"),
        ]
        for (json, field) in cases {
            let error = failure(json)
            #expect(error?.field == field)
            guard case .tooLong(_, let length, let limit)? = error?.error else {
                Issue.record("expected tooLong for \(field), got \(String(describing: error))")
                continue
            }
            #expect(length > limit)
            #expect(error?.message.contains("limit is \(limit)") == true)
        }
    }

    @Test func moreThanSixteenAttributesAreRefused() {
        let attributes = (0..<17).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        let error = failure(#"{"type":"session_start","session_id":"s","attributes":{\#(attributes)}}"#)
        #expect(error?.error == .tooManyAttributes(count: 17, limit: 16))
    }

    @Test func nonFiniteLatencyIsRefused() {
        let object: JSONValue = .object(["type": .string("completion"), "session_id": .string("s"), "latency_ms": .number(.nan), "accepted": .bool(true)])
        #expect(throws: EventValidationError.self) { try decoder.decode(object) }
        let infinite: JSONValue = .object(["type": .string("completion"), "session_id": .string("s"), "latency_ms": .number(.infinity), "accepted": .bool(true)])
        do {
            _ = try decoder.decode(infinite)
            Issue.record("infinite latency was accepted")
        } catch {
            #expect(error.field == "latency_ms")
        }
    }

    @Test func theSkewLimitIsConfigurable() throws {
        var limits = EventLimits()
        limits.maxFutureSkew = 10
        let strict = EventDecoder(limits: limits, now: { EventDecoderTests.now })
        #expect(throws: EventBatchError.self) {
            try strict.decodeBatch(Array(#"{"type":"session_start","session_id":"s","ts":1800000011}"#.utf8))
        }
        _ = try strict.decodeBatch(Array(#"{"type":"session_start","session_id":"s","ts":1800000009}"#.utf8))
    }
}
