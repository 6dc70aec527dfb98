import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TallyPipeline
@testable import TallyServer

@Suite struct IngestTests {
    static let completion = #"{"type":"completion","session_id":"s1","latency_ms":120,"accepted":true}"#

    @Test func anAcceptedBatchAnswers202WithTheCountAndIsStored() async throws {
        try await withTestNode { node, client in
            let response = try await client.postEvents("[\(Self.completion),\(Self.completion)]")
            #expect(response.status == .accepted)
            #expect(response.json["accepted"] as? Int == 2)
            let stored = try await node.log.figures().length
            #expect(stored == 2)
        }
    }

    @Test func ndjsonBatchesAreAccepted() async throws {
        try await withTestNode { node, client in
            let body = "\(Self.completion)\n\(Self.completion)\n\(Self.completion)\n"
            let response = try await client.postEvents(body, contentType: "application/x-ndjson")
            #expect(response.status == .accepted)
            #expect(response.json["accepted"] as? Int == 3)
        }
    }

    /// Each bad batch: its status, what the body must name, and nothing of it stored.
    static let badBatches: [(name: String, body: String, contentType: String?, status: HTTPResponse.Status, mentions: String)] = [
        ("malformed JSON", #"{"type": "completion""#, "application/json", .badRequest, "JSON"),
        ("wrong type", #"{"type":"completion","session_id":"s","latency_ms":"fast","accepted":true}"#, "application/json", .badRequest, "latency_ms"),
        ("missing field", #"{"type":"completion","session_id":"s","accepted":true}"#, "application/json", .badRequest, "latency_ms"),
        ("unknown type", #"{"type":"nap","session_id":"s"}"#, "application/json", .badRequest, "type"),
        ("long session id", #"{"type":"session_start","session_id":"\#(String(repeating: "x", count: 200))"}"#, "application/json", .badRequest, "session_id"),
        ("too many attributes", #"{"type":"session_start","session_id":"s","attributes":{\#((0..<20).map { "\"k\($0)\":\"v\"" }.joined(separator: ","))}}"#, "application/json", .badRequest, "attributes"),
        ("negative latency", #"{"type":"completion","session_id":"s","latency_ms":-1,"accepted":true}"#, "application/json", .badRequest, "latency_ms"),
        ("far timestamp", #"{"type":"session_start","session_id":"s","ts":32503680000}"#, "application/json", .badRequest, "ts"),
        ("empty body", "", "application/json", .badRequest, "empty"),
        ("wrong content type", completion, "text/plain", .unsupportedMediaType, "text/plain"),
        ("second item bad", "[\(completion),{\"type\":\"tool_call\",\"session_id\":\"s\"}]", "application/json", .badRequest, "tool"),
    ]

    @Test(arguments: badBatches.indices)
    func badInputGetsAClearErrorAndStoresNothing(index: Int) async throws {
        let bad = Self.badBatches[index]
        try await withTestNode { node, client in
            let response = try await client.postEvents(bad.body, contentType: bad.contentType)
            #expect(response.status == bad.status, "\(bad.name): \(response.text)")
            #expect(response.text.contains(bad.mentions), "\(bad.name): \(response.text)")
            let stored = try await node.log.figures().length
            #expect(stored == 0, "\(bad.name) stored something")
        }
    }

    @Test func theFirstBadItemIsNamedByIndexAndField() async throws {
        try await withTestNode { _, client in
            let response = try await client.postEvents("[\(Self.completion),{\"type\":\"tool_call\",\"session_id\":\"s\",\"success\":true}]")
            #expect(response.status == .badRequest)
            #expect(response.json["index"] as? Int == 1)
            #expect(response.json["field"] as? String == "tool")
        }
    }

    @Test func bodiesOverTheLimitAreRefusedWith413() async throws {
        try await withTestNode(maxBodyBytes: 4096) { node, client in
            let big = "[" + Array(repeating: Self.completion, count: 200).joined(separator: ",") + "]"
            let response = try await client.postEvents(big)
            #expect(response.status == .contentTooLarge)
            let stored = try await node.log.figures().length
            #expect(stored == 0)
        }
    }

    @Test func tenMebibytesAreRefusedWith413AtTheDefaultLimit() async throws {
        try await withTestNode { node, client in
            let big = String(repeating: " ", count: 10 << 20) + Self.completion
            let response = try await client.postEvents(big)
            #expect(response.status == .contentTooLarge)
            let stored = try await node.log.figures().length
            #expect(stored == 0)
        }
    }

    @Test func invalidUTF8IsABadRequestNamingTheBody() async throws {
        try await withTestNode { node, client in
            var bytes = Array(#"{"type":"session_start","session_id":"#.utf8)
            bytes += [0x22, 0xFF, 0xFE, 0x22, 0x7D]  // "\xFF\xFE"}
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: bytes)
            )
            #expect(response.status == .badRequest)
            #expect(response.json["index"] as? Int == 0)
            let stored = try await node.log.figures().length
            #expect(stored == 0)
        }
    }

    @Test func invalidUTF8InNDJSONNamesItsItemAsTheDecoderCountsThem() async throws {
        try await withTestNode { _, client in
            var bytes = Array((Self.completion + "\n\n").utf8)  // item 0, then a blank line
            bytes += Array(#"{"type":"session_start","session_id":"#.utf8) + [0x22, 0xC3, 0x28, 0x22, 0x7D, 0x0A]
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/x-ndjson"], body: ByteBuffer(bytes: bytes)
            )
            #expect(response.status == .badRequest)
            #expect(response.json["index"] as? Int == 1)
        }
    }

    @Test func aConfiguredTokenIsRequired() async throws {
        try await withTestNode(token: "s3cret") { node, client in
            let missing = try await client.postEvents(Self.completion)
            let wrong = try await client.postEvents(Self.completion, headers: [.authorization: "Bearer wrong"])
            let right = try await client.postEvents(Self.completion, headers: [.authorization: "Bearer s3cret"])
            #expect(missing.status == .unauthorized)
            #expect(wrong.status == .unauthorized)
            #expect(right.status == .accepted)
            let stored = try await node.log.figures().length
            #expect(stored == 1)
        }
    }

    @Test func aRetriedBatchWithTheSameIdempotencyKeyCountsOnce() async throws {
        try await withTestNode { node, client in
            let key = HTTPField.Name("Idempotency-Key")!
            for _ in 0..<3 {
                let response = try await client.postEvents("[\(Self.completion),\(Self.completion)]", headers: [key: "batch-1"])
                #expect(response.status == .accepted)
                #expect(response.json["accepted"] as? Int == 2)
            }
            let stored = try await node.log.figures().length
            #expect(stored == 2)
        }
    }

    /// Memory flatness is measured on the real process (ServeProcessTests): the
    /// in-process test client itself keeps ~5 KiB per request.
    @Test func theServerStaysUpAcrossTenThousandBadRequests() async throws {
        try await withTestNode { node, client in
            let bad = ["{", "[]", #"{"type":"nap","session_id":"s"}"#, "", #"{"type":"completion","session_id":"s","latency_ms":-1,"accepted":true}"#]
            for i in 0..<1_000 {
                _ = try await client.postEvents(bad[i % bad.count])
            }
            for i in 0..<10_000 {
                let response = try await client.postEvents(bad[i % bad.count])
                #expect(response.status == .badRequest)
            }
            let good = try await client.postEvents(Self.completion)
            #expect(good.status == .accepted)
            #expect(node.rings.errors.count == 50)
            #expect(node.rings.requests.count == 100)
            let stored = try await node.log.figures().length
            #expect(stored == 1)
        }
    }
}
