import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TallyMetrics
import TallyPipeline
import TallyTesting
@testable import TallyServer

/// A node on the embedded backend (or Redis) behind Hummingbird's test client, with its workers running.
func withTestNode<Result: Sendable>(
    redisURL: String? = nil,
    token: String? = nil,
    maxBodyBytes: Int = 1 << 20,
    _ body: @Sendable (TallyNodeComponents, any TestClientProtocol) async throws -> Result
) async throws -> Result {
    var configuration = TallyServerConfiguration()
    configuration.redisURL = redisURL
    configuration.token = token
    configuration.maxBodyBytes = maxBodyBytes
    configuration.workers = 2
    // Dozens of tests share two cores here: give connects room (the outage tests rely on refusals, not on this deadline).
    configuration.redisLeaseTimeout = .seconds(5)
    configuration.appendTimeout = .seconds(10)
    let components = try TallyNodeComponents(configuration: configuration)
    try await components.log.prepare()
    let app = Application(router: TallyRouter.build(node: components))
    let workers = Task { await components.workers.run() }
    defer {
        components.workers.stop()
        workers.cancel()
    }
    let result = try await app.test(.router) { client in
        try await body(components, client)
    }
    components.workers.stop()
    await workers.value
    await components.close()
    return result
}

extension TestClientProtocol {
    func postEvents(_ body: String, contentType: String? = "application/json", headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let contentType { headers[.contentType] = contentType }
        return try await self.execute(uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: self.body) }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(self.text.utf8))) as? [String: Any] ?? [:]
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(seconds: Double = 10, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    try await poll(timeout: .milliseconds(Int(seconds * 1000)), every: .milliseconds(20), condition)
}
