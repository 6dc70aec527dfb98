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

    /// Stored events are read by a flat-object path that builds no JSON object; on every input,
    /// well-formed or not, it decodes exactly what the full parse decodes, or fails the same way.
    @Test func theFlatPathDecodesWhatTheFullParseDecodes() {
        var stored = EventDecoder(checksSkew: false, now: { 0 })
        stored.requiresIDAndTimestamp = true
        stored.measuresNormalisedForm = false
        func full(_ json: String) -> Result<TelemetryEvent, EventValidationError> {
            do {
                let item = try JSONParser.parseItem(Array(json.utf8))
                return .success(try stored.decode(item.value, bytes: item.bytes))
            } catch let error as EventValidationError {
                return .failure(error)
            } catch {
                return .failure(.malformedJSON(detail: "\(error)"))
            }
        }
        func viaDecodeEvent(_ json: String) -> Result<TelemetryEvent, EventValidationError> {
            Result { () throws(EventValidationError) in try stored.decodeEvent(Array(json.utf8)) }
        }
        let events: [TelemetryEvent] = [
            .completion(id: "0123456789abcdefghij", session: "session-1", at: 1_764_647_733.1234567, latencyMilliseconds: 120.5, accepted: true),
            .toolCall(id: "t", session: "s", at: 1_700_000_000, tool: "grep", success: false),
            .clientError(id: "e", session: "s", at: 1_700_000_000.5, code: "timeout"),
            .sessionStart(id: "a", session: "naïve ☃ session", at: 1_700_000_000),
            .sessionEnd(id: "b", session: "s", at: 1_700_000_001),
        ]
        var inputs = events.map(EventRecord.encode)
        inputs += [
            #"{"type":"session_start","session_id":"s","id":"x","ts":1700000000,"type":"session_end"}"#,  // a name twice: the last counts
            #" {"type":"session_start","session_id":"s","id":"x","ts":1700000000,"extra":null,"n":-1.5e3} "#,
            #"{"type":"completion","session_id":"s","id":"x","ts":1700000000,"latency_ms":"fast","accepted":true}"#,
            #"{"type":"tool_call","session_id":"s","id":"x","ts":1700000000,"tool":7,"success":true}"#,
            #"{"type":"tool_call","session_id":"s","id":"x","ts":1700000000,"tool":"a\u0007b","success":true}"#,
            #"{"type":"tool_call","session_id":"s","id":"x","ts":1700000000,"tool":"a\"b","success":true}"#,
            #"{"type":"session_start","session_id":"s","id":"x","ts":"2026-12-02T03:55:33.123Z"}"#,
            #"{"type":"session_start","session_id":"s","id":"x","ts":null}"#,
            #"{"type":"session_start","session_id":"s","ts":1700000000}"#,
            #"{"type":"nope","session_id":"s","id":"x","ts":1700000000}"#,
            #"{"type":"session_start","session_id":"s","id":"x","ts":1700000000,"attributes":{"k":"v"}}"#,
            #"{"type":"session_start","session_id":"s","id":"x","ts":1700000000,"attributes":[1]}"#,
            #"{"type":"session_start","session_id":"s","id":"x","ts":1e400}"#,
            #"{"type":"session_start","session_id":"s","id":"x","ts":1700000000"#, "{}", "[]", "7", #""x""#, "",
            #"{"type":"session_start","session_id":"s","id":"x","ts":1700000000}x"#, #"{"type" "session_start"}"#,
            #"{"type":"session_start","session_id":"s","id":"x","ts":1700000000,}"#, #"{"type":tru}"#,
            #"{"type":"session_start","session_id":"\#(String(repeating: "s", count: 200))","id":"x","ts":1700000000}"#,
            "{\"type\":\"session_start\",\"session_id\":\"s\",\"id\":\"x\",\"ts\":1700000000,\"pad\":\"\(String(repeating: "p", count: 20_000))\"}",
        ]
        for input in inputs {
            #expect(viaDecodeEvent(input) == full(input), "\(input.prefix(200))")
        }
        #expect((try? viaDecodeEvent(inputs[0]).get()) == events[0])
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

    // MARK: Bounded values

    static let combiningAccents = String(repeating: "\u{301}", count: 4_000)

    @Test func limitsCountUTF8BytesNotCharacters() throws {
        // One character, 8,001 bytes: the old character count let it through.
        let accented = "e" + Self.combiningAccents
        #expect(accented.count == 1)
        let tool = failure(#"{"type":"tool_call","session_id":"s","tool":"\#(accented)","success":true}"#)
        #expect(tool?.error == .tooLong(field: "tool", bytes: 8_001, limit: 64))
        #expect(tool?.message == "'tool' is 8001 bytes of UTF-8, the limit is 64 bytes")
        let session = failure(#"{"type":"session_start","session_id":"s\#(String(repeating: "\u{301}", count: 100))"}"#)
        #expect(session?.error == .tooLong(field: "session_id", bytes: 201, limit: 128))
        // 32 two-byte characters fit in 64 bytes; 33 (66 bytes, still < 64 characters) do not.
        #expect(try decode(#"{"type":"error","session_id":"s","code":"\#(String(repeating: "é", count: 32))"}"#)[0].code?.utf8.count == 64)
        #expect(failure(#"{"type":"error","session_id":"s","code":"\#(String(repeating: "é", count: 33))"}"#)?.field == "code")
        #expect(failure(#"{"type":"session_start","session_id":"s","id":"\#(String(repeating: "é", count: 33))"}"#)?.field == "id")
        let value = failure(#"{"type":"session_start","session_id":"s","attributes":{"k":"\#(String(repeating: "é", count: 129))"}}"#)
        #expect(value?.error == .tooLong(field: "attributes.k", bytes: 258, limit: 256))
        let key = failure(#"{"type":"session_start","session_id":"s","attributes":{"\#(accented)":"v"}}"#)
        #expect(key?.field == "attributes.e" + String(repeating: "\u{301}", count: 31))  // the key's first 64 bytes
    }

    @Test(arguments: [
        ("\\u0007", "U+0007 (a control character)"),
        ("\\u001b[31m", "U+001B (a control character)"),
        ("\\t", "U+0009 (a control character)"),
        ("\\n", "U+000A (a control character)"),
        ("\u{7F}", "U+007F (a control character)"),
        ("\u{85}", "U+0085 (a control character)"),
        ("\u{9B}", "U+009B (a control character)"),
        ("\u{200B}", "U+200B (an invisible format character)"),
        ("\u{200D}", "U+200D (an invisible format character)"),
        ("\u{202E}", "U+202E (an invisible format character)"),
        ("\u{FEFF}", "U+FEFF (an invisible format character)"),
        ("\u{AD}", "U+00AD (an invisible format character)"),
        ("\u{2028}", "U+2028 (a line separator)"),
        ("\u{2029}", "U+2029 (a paragraph separator)"),
    ])
    func labelValuesMustBePrintable(character: String, named: String) {
        let tool = failure(#"{"type":"tool_call","session_id":"s","tool":"gr\#(character)ep","success":true}"#)
        #expect(tool?.field == "tool")
        #expect(tool?.message.contains("\(named) at byte 2") == true, "\(String(describing: tool?.message))")
        #expect(tool?.message.contains("printable") == true)
        let code = failure(#"{"type":"error","session_id":"s","code":"\#(character)E42"}"#)
        #expect(code?.field == "code")
        #expect(code?.message.contains(named) == true)
    }

    @Test func printableLabelValuesInAnyScriptAreAccepted() throws {
        for name in ["grep", "run tests", "café", "工具", "🔧", "ünïcödé-tool_1.2", "e\u{301}"] {
            #expect(try decode(#"{"type":"tool_call","session_id":"s","tool":"\#(name)","success":true}"#)[0].tool == name)
            #expect(try decode(#"{"type":"error","session_id":"s","code":"\#(name)"}"#)[0].code == name)
        }
        // Ids and attributes are not labels: they may hold any text.
        let event = try decode(#"{"type":"session_start","session_id":"s\tt","id":"a\u0007","attributes":{"k":"line\nbreak"}}"#)[0]
        #expect(event.sessionID == "s\tt" && event.id == "a\u{07}" && event.attributes["k"] == "line\nbreak")
    }

    static let completionPrefix = #"{"type":"completion","session_id":"s","accepted":true,"latency_ms":"#

    @Test(arguments: ["1e308", "-1", "-1e-300", "1e400", "-1e400", "3600000.001", "1e7", "\"NaN\"", "\"Infinity\"", "true", "null"])
    func latencyOutsideZeroToOneHourIsRefusedNamingTheField(latency: String) {
        let error = failure(Self.completionPrefix + latency + "}")
        #expect(error?.field == "latency_ms", "\(latency): \(String(describing: error))")
        #expect(error?.index == 0)
    }

    @Test func hugeExponentsNeverBecomeAnAcceptedInfinity() {
        let error = failure(Self.completionPrefix + "1e400}")
        #expect(error?.message == "'latency_ms' is beyond the range of a 64-bit float: must be a finite number")
        #expect(failure(Self.completionPrefix + "1e308}")?.message == "'latency_ms' is 1e+308: must be at most 3600000 (ms)")
        #expect(failure(#"{"type":"session_start","session_id":"s","ts":1e400}"#)?.field == "ts")
        #expect(failure(#"{"type":"session_start","session_id":"s","ts":-1e400}"#)?.field == "ts")
    }

    @Test func latencyEdgesWithinTheRangeAreAccepted() throws {
        #expect(try decode(Self.completionPrefix + "0}")[0].latencyMilliseconds == 0)
        let negativeZero = try #require(try decode(Self.completionPrefix + "-0.0}")[0].latencyMilliseconds)
        #expect(negativeZero == 0 && negativeZero.sign == .plus)
        #expect(EventRecord.encode(try decode(Self.completionPrefix + "-0}")[0]).contains(#""latency_ms":0,"#))
        let subnormal = try #require(try decode(Self.completionPrefix + "1e-320}")[0].latencyMilliseconds)
        #expect(subnormal.isSubnormal && subnormal > 0)
        #expect(try decode(Self.completionPrefix + "3600000}")[0].latencyMilliseconds == 3_600_000)
        #expect(try decode(Self.completionPrefix + "3.6e6}")[0].latencyMilliseconds == 3_600_000)
        // And each survives the round trip through the stored form exactly.
        for latency in ["0", "-0.0", "1e-320", "3600000", "0.1"] {
            let event = try decode(Self.completionPrefix + latency + "}")[0]
            #expect(try EventRecord(entryFields: EventRecord(event: event).fields).event == event)
        }
    }

    @Test func theLatencyBoundIsConfigurable() throws {
        var limits = EventLimits()
        limits.maxLatencyMilliseconds = 10
        let strict = EventDecoder(limits: limits, now: { EventDecoderTests.now })
        _ = try strict.decodeBatch(Array((Self.completionPrefix + "10}").utf8))
        #expect(throws: EventBatchError.self) { try strict.decodeBatch(Array((Self.completionPrefix + "10.5}").utf8)) }
    }

    @Test func timestampsMustBeInRangeEvenWithoutTheSkewCheck() throws {
        let lenient = EventDecoder(checksSkew: false, now: { EventDecoderTests.now })
        func field(_ ts: String) -> String? {
            do {
                _ = try lenient.decodeBatch(Array(#"{"type":"session_start","session_id":"s","ts":\#(ts)}"#.utf8))
                return nil
            } catch {
                return error.field
            }
        }
        for ts in ["1e400", "1e300", "-1", "-1e-300", "253402300800", "\"0000-01-01T00:00:00Z\""] {
            #expect(field(ts) == "ts", "\(ts)")
        }
        for ts in ["0", "-0.0", "1e-320", "253402300799", "1800000000.5"] {
            #expect(field(ts) == nil, "\(ts)")
        }
        #expect(failure(#"{"type":"session_start","session_id":"s","ts":1e300}"#)?.message.contains("unix seconds from 0 to 253402300799") == true)
    }

    @Test func anEventsJSONObjectIsAtMost8KiBAsSent() throws {
        let padding = String(repeating: "x", count: 8_200)
        let big = #"{"type":"session_start","session_id":"s","note":"\#(padding)"}"#
        let small = #"{"type":"session_start","session_id":"s"}"#
        let error = failure("[\(small), \(big)]")
        #expect(error?.index == 1)
        #expect(error?.error == .eventTooLarge(bytes: big.utf8.count, limit: 8_192))
        #expect(error?.message == "the event's JSON object is \(big.utf8.count) bytes, the limit is 8192 bytes")
        let line = failure("\(small)\n\(big)\n", format: .ndjson)
        #expect(line?.index == 1 && line?.error == .eventTooLarge(bytes: big.utf8.count, limit: 8_192))
        // Exactly at the limit is fine.
        let exact = #"{"type":"session_start","session_id":"s","note":""# + String(repeating: "x", count: 8_192 - small.utf8.count - 10) + #""}"#
        #expect(exact.utf8.count == 8_192)
        #expect(try decode(exact).count == 1)
        #expect(failure(String(exact.dropLast(2)) + #"x"}"#)?.error == .eventTooLarge(bytes: 8_193, limit: 8_192))
    }

    @Test func anEventWhoseStoredFormWouldPassTheLimitIsRefusedAtIngest() {
        // `\b` is 2 bytes as sent and 6 (`\u0008`) as stored: 16 such attributes fit as sent, not as stored.
        let value = String(repeating: "\\b", count: 200)
        let attributes = (0..<16).map { #""k\#($0)":"\#(value)""# }.joined(separator: ",")
        let json = #"{"type":"session_start","session_id":"s","attributes":{\#(attributes)}}"#
        #expect(json.utf8.count < 8_192)
        guard case .eventTooLarge(let bytes, 8_192)? = failure(json)?.error else {
            Issue.record("expected eventTooLarge, got \(String(describing: failure(json)))")
            return
        }
        #expect(bytes > 8_192)
    }
}
