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
    @Test func derivedMetricsWithNaNAndInfinityAreValidJSONWithNulls() async throws {
        try await withTestNode { node, _ in
            // The apply step now refuses sums that would overflow, so such a state cannot be stored; the
            // encoding must still never fail on a non-finite value (inf / inf used to make it answer {}).
            var derived = try await node.exporter.refresh()
            derived.completions = .infinity
            derived.acceptanceRatio = .nan
            derived.toolSuccessRatio["grep"] = .nan
            derived.toolCalls["grep"] = OutcomeCounts(success: .infinity, failure: .infinity)
            derived.clientErrors["E1"] = .infinity
            #expect(JSONResponse.make(.ok, derived).status == .ok)
            let text = String(buffer: try JSONResponse.encode(derived))
            #expect(text != "{}")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
            #expect(object["acceptanceRatio"] is NSNull)
            #expect(object["completions"] is NSNull)
            #expect((object["toolSuccessRatio"] as? [String: Any])?["grep"] is NSNull)
            #expect(((object["toolCalls"] as? [String: Any])?["grep"] as? [String: Any])?["success"] is NSNull)
            #expect((object["clientErrors"] as? [String: Any])?["E1"] is NSNull)
            #expect(object["windowSeconds"] as? Int == 300)
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
