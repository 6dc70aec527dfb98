import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TallyPipeline
import Testing
@testable import TallyServer

/// JSON answers are whole JSON: non-finite numbers become `null`, and what
/// cannot be encoded is a 500 that says why, never `200 {}`.
@Suite struct JSONResponseTests {
    @Test func derivedMetricsFromAStateThatYieldsNaNAndInfinityAreValidJSONWithNulls() async throws {
        try await withTestNode { node, client in
            // A state whose sums overflowed: completions and accepted are +inf, so the ratio is inf / inf = NaN.
            let now = Date().timeIntervalSince1970
            var bucket = WindowBucketDelta()
            bucket.completions = .infinity
            bucket.accepted = .infinity
            bucket.toolCalls["grep"] = OutcomeCounts(success: .infinity, failure: .infinity)
            var delta = StateDelta()
            delta.buckets[DeltaCalculator.bucketStart(of: now, bucketSeconds: 10)] = bucket
            delta.toolCalls["grep"] = OutcomeCounts(success: .infinity, failure: .infinity)
            delta.errorCodes["E1"] = .infinity
            try await node.store.apply(delta, now: now)
            let derived = try await node.exporter.refresh()
            #expect(derived.acceptanceRatio?.isNaN == true)  // what used to make the encoder fail

            let response = try await client.execute(uri: "/v1/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.text != "{}")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any], "\(response.text)")
            #expect(object["acceptanceRatio"] is NSNull)
            #expect(object["completions"] is NSNull)
            #expect((object["toolSuccessRatio"] as? [String: Any])?["grep"] is NSNull)
            #expect(((object["toolCalls"] as? [String: Any])?["grep"] as? [String: Any])?["success"] is NSNull)
            #expect((object["clientErrors"] as? [String: Any])?["E1"] is NSNull)
            #expect(object["windowSeconds"] as? Int == 300)
            #expect(object["activeSessions"] as? Int == 0)
        }
    }

    @Test func stringsThatLookLikeNonFiniteNumbersStayStrings() throws {
        let text = String(buffer: try JSONResponse.encode(["a": "NaN", "b": "tally-non-finite-", "c": "null"]))
        #expect(text == #"{"a":"NaN","b":"tally-non-finite-","c":"null"}"#)
        let numbers = String(buffer: try JSONResponse.encode(["x": [1.5, .nan, -.infinity, .infinity, 0]]))
        #expect(numbers == #"{"x":[1.5,null,null,null,0]}"#)
    }

    struct Unencodable: Encodable {
        func encode(to encoder: any Encoder) throws {
            throw EncodingError.invalidValue(self, .init(codingPath: [], debugDescription: "refuses to be encoded"))
        }
    }

    @Test func aValueThatCannotBeEncodedIsA500ThatSaysWhy() async throws {
        let response = JSONResponse.make(.ok, Unencodable())
        #expect(response.status == .internalServerError)
        let router = Router()
        router.get("/") { _, _ in JSONResponse.make(.ok, Unencodable()) }
        try await Application(router: router).test(.router) { client in
            let answer = try await client.execute(uri: "/", method: .get)
            #expect(answer.status == .internalServerError)
            let object = try JSONSerialization.jsonObject(with: Data(answer.text.utf8)) as? [String: Any]
            let message = object?["error"] as? String ?? ""
            #expect(message.contains("200 response could not be encoded") && message.contains("refuses to be encoded"), "\(answer.text)")
        }
    }
}
