import Foundation
import TallyMetrics

/// The last 100 requests and the last 50 errors, for `GET /v1/debug/recent`.
/// Bounded rings: memory never grows with traffic.
package final class DebugRings: Sendable {
    public struct RequestRecord: Sendable, Codable, Equatable {
        public var at: Double
        public var method: String
        /// The request path, cut to 200 characters (never used as a label).
        public var path: String
        public var status: Int
        public var durationSeconds: Double
    }

    public struct ErrorRecord: Sendable, Codable, Equatable {
        public var at: Double
        public var path: String
        public var status: Int
        public var message: String
    }

    public let requests = RecentEventRing<RequestRecord>(capacity: 100)
    public let errors = RecentEventRing<ErrorRecord>(capacity: 50)

    public init() {}

    func recordError(path: String, status: Int, message: String) {
        self.errors.append(ErrorRecord(at: Date().timeIntervalSince1970, path: String(path.prefix(200)), status: status, message: String(message.prefix(500))))
    }
}
