import HTTPTypes
import Testing
@testable import TallyServer

@Suite struct BearerTokenTests {
    let token = BearerToken("s3cret")

    @Test(arguments: ["Bearer s3cret", "bearer s3cret", "BEARER s3cret", "BeArEr s3cret", "Bearer   s3cret"])
    func theSchemeIsCaseInsensitive(header: String) {
        #expect(token.accepts(authorization: header))
    }

    @Test(arguments: ["", "Bearer", "Bearer ", "Bearers3cret", "Bearer S3CRET", "Bearer s3cre", "Bearer s3cretx", "Basic s3cret",
                      "Bearer\ts3cret", "Bear s3cret", "s3cret", "Bearer s3cret s3cret"])
    func anythingElseIsRefused(header: String) {
        #expect(!token.accepts(authorization: header))
    }

    @Test func aMissingHeaderIsRefused() {
        #expect(!token.accepts(authorization: nil))
    }

    @Test func ingestTakesTheSchemeInAnyCase() async throws {
        try await withTestNode(token: "s3cret") { node, client in
            for scheme in ["bearer", "BEARER", "Bearer"] {
                let response = try await client.postEvents(IngestTests.completion, headers: [.authorization: "\(scheme) s3cret"])
                #expect(response.status == .accepted, "\(scheme)")
            }
            let wrong = try await client.postEvents(IngestTests.completion, headers: [.authorization: "bearer S3CRET"])
            #expect(wrong.status == .unauthorized)
            #expect(try await node.log.figures().length == 3)
        }
    }
}
