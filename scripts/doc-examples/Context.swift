// What the documents' Swift examples take as given: the request being served, the application's
// own types and clients. scripts/check-doc-examples type-checks every example against these and
// the built modules; nothing here runs.
import Foundation

let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
let acceptHeader: String? = "application/openmetrics-text; version=1.0.0"

/// The request being served, from whichever HTTP server the application uses.
struct ExampleRequest {
    var headers: [String: String]
}
let request = ExampleRequest(headers: ["Accept": "application/openmetrics-text; version=1.0.0"])

// The instrumentation kit's examples (docs/instrumentation-kit.md).
let frame = [UInt8](repeating: 0, count: 512)
let sentAt = ContinuousClock.now
let elapsed = Duration.milliseconds(3)
let id = 42
let value: String? = nil
let limitedNow = 3
let waited = 0.25
let depth = 120
let age: Double? = 4.5
let gitRevision = "ee88afe"
let failed = false
let messageID = "m-1"

/// The application's database client.
struct ExampleDatabase: Sendable {
    func fetchUser(_ id: Int) async throws -> String { "" }
}
let db = ExampleDatabase()

/// A model provider's answer, with what it billed.
struct ExampleLLMResponse: Sendable {
    var billedDollars: Double
}
let response = ExampleLLMResponse(billedDollars: 0.0012)

/// The application's own Redis client, whichever it is: it answers `INFO` with its text.
struct ExampleRedis: Sendable {
    func info(sections: [String]) async throws -> String { "" }
}
let redis = ExampleRedis()

/// What the application buffers, and where it sends it.
struct Delivery: Sendable {
    var messageID: String
    var weight: Double = 1
}
struct ExampleAnalytics: Sendable {
    func store(_ batch: [Delivery]) async {}
}
let analytics = ExampleAnalytics()

// The pipeline's and the Redis client's examples (docs/pipeline.md, docs/redis-client.md): an event.
let json = #"{"type":"completion","session_id":"s-1","latency_ms":120,"accepted":true}"#
let body = Array(json.utf8)
