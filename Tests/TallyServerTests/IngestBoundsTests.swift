import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TallyPipeline
import Testing
@testable import TallyServer

/// Hostile values over HTTP: each is a 400 that names the field (and the
/// item), and nothing of its batch is stored.
@Suite struct IngestBoundsTests {
    static let good = #"{"type":"completion","session_id":"s","latency_ms":120,"accepted":true}"#
    static let completion = #"{"type":"completion","session_id":"s","accepted":true,"latency_ms":"#

    /// A hostile event, the `field` the 400 must name and what its `message` must say.
    static let hostile: [(name: String, json: String, field: String, says: String)] = [
        ("latency 1e308", completion + "1e308}", "latency_ms", "at most 3600000"),
        ("negative latency", completion + "-0.5}", "latency_ms", "≥ 0"),
        ("latency past one hour", completion + "3600001}", "latency_ms", "at most 3600000"),
        ("latency 1e400", completion + "1e400}", "latency_ms", "finite"),
        ("latency -1e400", completion + "-1e400}", "latency_ms", "finite"),
        ("latency \"NaN\"", completion + "\"NaN\"}", "latency_ms", "a number"),
        ("ts 1e400", #"{"type":"session_start","session_id":"s","ts":1e400}"#, "ts", "finite"),
        ("ts -1", #"{"type":"session_start","session_id":"s","ts":-1}"#, "ts", "unix seconds from 0"),
        ("combining-accent tool", #"{"type":"tool_call","session_id":"s","success":true,"tool":"e\#(String(repeating: "\u{301}", count: 4_000))"}"#,
         "tool", "8001 bytes"),
        ("combining-accent session id", #"{"type":"session_start","session_id":"s\#(String(repeating: "\u{301}", count: 200))"}"#,
         "session_id", "401 bytes"),
        ("control character in tool", #"{"type":"tool_call","session_id":"s","success":true,"tool":"gr\u0007ep"}"#, "tool", "U+0007"),
        ("escape sequence in code", #"{"type":"error","session_id":"s","code":"\u001b[2J"}"#, "code", "U+001B"),
        ("C1 control in code", "{\"type\":\"error\",\"session_id\":\"s\",\"code\":\"E\u{85}\"}", "code", "U+0085"),
        ("bidi override in tool", "{\"type\":\"tool_call\",\"session_id\":\"s\",\"success\":true,\"tool\":\"\u{202E}pots\"}", "tool", "U+202E"),
        ("line separator in code", #"{"type":"error","session_id":"s","code":"E\u2028"}"#, "code", "U+2028"),
        ("oversize attribute value", #"{"type":"session_start","session_id":"s","attributes":{"k":"\#(String(repeating: "é", count: 129))"}}"#,
         "attributes.k", "258 bytes"),
        ("too many attributes", #"{"type":"session_start","session_id":"s","attributes":{\#((0..<17).map { "\"k\($0)\":\"v\"" }.joined(separator: ","))}}"#,
         "attributes", "17 entries"),
        ("oversize event", #"{"type":"session_start","session_id":"s","note":"\#(String(repeating: "x", count: 9_000))"}"#,
         "", "JSON object is 9051 bytes, the limit is 8192 bytes"),
    ]

    @Test(arguments: hostile.indices)
    func aHostileValueIsA400NamingItsFieldAndNothingIsStored(index: Int) async throws {
        let bad = Self.hostile[index]
        try await withTestNode { node, client in
            let alone = try await client.postEvents(bad.json)
            #expect(alone.status == .badRequest, "\(bad.name): \(alone.text.prefix(300))")
            #expect(alone.json["field"] as? String == bad.field, "\(bad.name): \(alone.text.prefix(300))")
            #expect(alone.json["index"] as? Int == 0)
            #expect((alone.json["message"] as? String)?.contains(bad.says) == true, "\(bad.name): \(alone.text.prefix(300))")
            // Second in a batch, and as NDJSON: the batch is refused whole.
            let batch = try await client.postEvents("[\(Self.good),\(bad.json)]")
            #expect(batch.status == .badRequest && batch.json["index"] as? Int == 1 && batch.json["field"] as? String == bad.field)
            let lines = try await client.postEvents("\(Self.good)\n\(bad.json)\n", contentType: "application/x-ndjson")
            #expect(lines.status == .badRequest && lines.json["index"] as? Int == 1 && lines.json["field"] as? String == bad.field)
            #expect(try await node.log.figures().length == 0, "\(bad.name) stored something")
        }
    }

    @Test func valuesAtTheEdgesOfTheBoundsAreAccepted() async throws {
        try await withTestNode { node, client in
            let edges = [
                Self.completion + "0}", Self.completion + "-0.0}", Self.completion + "1e-320}", Self.completion + "3600000}",
                #"{"type":"tool_call","session_id":"s","success":true,"tool":"\#(String(repeating: "é", count: 32))"}"#,
                #"{"type":"error","session_id":"\#(String(repeating: "s", count: 128))","code":"工具 🔧"}"#,
            ]
            let response = try await client.postEvents("[" + edges.joined(separator: ",") + "]")
            #expect(response.status == .accepted, "\(response.text)")
            #expect(response.json["accepted"] as? Int == edges.count)
            #expect(try await node.log.figures().length == edges.count)
        }
    }
}
