import Testing
@testable import TallyPipeline
import TallyTesting

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func valuesKeepTheirKinds() throws {
        #expect(try parse(#" {"a": [1, -2.5e3, true, false, null, "x"], "b": {}} "#) == .object([
            "a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null, .string("x")]),
            "b": .object([:]),
        ]))
        #expect(try parse("0") == .number(0))
        #expect(try parse("[]") == .array([]))
    }

    /// Numbers read by the parser's own fast path are the Doubles `strtod` reads, to the last bit:
    /// times to the microsecond, latencies, long fractions, exponents, zeros and signs.
    @Test func numbersAreReadExactlyAsStrtodReadsThem() throws {
        var random = SeededRandom(seed: 11)
        var texts = ["0", "-0", "0.0", "1", "-1", "0.1", "0.3", "1e22", "1e23", "2.5e-3", "9007199254740993", "123456789012345",
                     "1234567890123456", "0.000001", "1800000000.123456", "1800000000.1234567", "4.35", "0.10000000000000001",
                     "999999999999999.9", "1.00000000000000000000001", "9007199254740992", "9007199254740993.5", "900719925474099.25",
                     "1764647733.1234567", "1764647733.123456", "18446744073709551615", "18446744073709551616", "0.9007199254740992"]
        for _ in 0..<5000 {
            let whole = random.next() % 10_000_000_000
            let fraction = random.next() % 10_000_000_000
            let digits = Int(random.next() % 11)
            var text = "\(whole)"
            if digits > 0 { text += "." + String(String(fraction).prefix(digits)) }
            if random.next() % 2 == 0 { text = "-" + text }
            texts.append(text)
        }
        for text in texts {
            let parsed = try JSONParser.parse(Array(text.utf8))
            let expected = try #require(Double(text))
            guard case .number(let value) = parsed else { Issue.record("\(text): \(parsed)"); continue }
            #expect(value.bitPattern == expected.bitPattern, "\(text): \(value) where strtod reads \(expected)")
        }
    }

    @Test func aNameGivenTwiceKeepsItsLastValueAsInADictionary() throws {
        guard case .object(let object) = try parse(#"{"a": 1, "b": 2, "a": 3}"#) else { Issue.record("not an object"); return }
        #expect(object["a"] == .number(3) && object["b"] == .number(2) && object["c"] == nil)
        #expect(object.dictionary == ["a": .number(3), "b": .number(2)])
        #expect(JSONValue.object(object) == .object(["b": .number(2), "a": .number(3)]))
        // An event's fields follow the same rule: the last `type` decides.
        let event = try EventDecoder(checksSkew: false).decodeEvent(Array(#"{"type":"session_start","session_id":"s","type":"session_end"}"#.utf8))
        #expect(event.type == .sessionEnd)
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        #expect(try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\n\té😀"))
        #expect(try parse("\"héllo ✓\"") == .string("héllo ✓"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "1e", "tru", "\"abc", "\"\\x\"", "\"\\ud83d\"", "{} x",
                      "\"a\u{01}b\"", "NaN", String(repeating: "[", count: 70) + String(repeating: "]", count: 70)])
    func malformedInputIsRefusedWithAnOffset(text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
    }

    @Test func aBatchsItemsAreMeasuredAsSent() throws {
        let items = try JSONParser.parseItems(Array(#" [ {"a": 1} ,{"b":"é"},  7 ] "#.utf8))
        #expect(items.map(\.bytes) == [8, 10, 1])
        #expect(items.map(\.value) == [.object(["a": .number(1)]), .object(["b": .string("é")]), .number(7)])
        let single = try JSONParser.parseItems(Array("\n {\"a\": [1, 2]}\r\n".utf8))
        #expect(single.map(\.bytes) == [13])
        #expect(try JSONParser.parseItem(Array("  {}  ".utf8)).bytes == 2)
    }

    @Test func theWriterEscapesWhatTheParserReads() throws {
        let tricky = "q\"uote \\ back\nline\u{01} é 😀"
        let event = TelemetryEvent(id: tricky, type: .toolCall, sessionID: "s", timestamp: 1_800_000_000.5, tool: "t", success: false, attributes: [tricky: tricky, "b": ""])
        let json = EventRecord.encode(event)
        #expect(try EventRecord(entryFields: [(name: "event", value: json)]).event == event)
        #expect(EventRecord.encode(.completion(id: "e", session: "s", at: 7, latencyMilliseconds: 0.125, accepted: true))
            == #"{"accepted":true,"id":"e","latency_ms":0.125,"session_id":"s","ts":7,"type":"completion"}"#)
    }
}
