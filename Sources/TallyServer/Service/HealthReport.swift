/// `GET /health`: the state of each component; ready when the log answers and
/// workers run, or, on an ingest-only node (`--workers 0`), when the log answers.
public struct HealthReport: Sendable, Codable, Equatable {
    public struct Component: Sendable, Codable, Equatable {
        public var healthy: Bool
        public var detail: String
    }

    /// What a node does.
    public enum Role: String, Sendable, Codable, Equatable {
        /// Ingest and in-process workers.
        case ingestAndWorkers = "ingest-and-workers"
        /// Ingest only: `tally worker` processes apply what it appends.
        case ingestOnly = "ingest-only"
    }

    public var ready: Bool
    public var role: Role
    public var backend: String
    public var store: Component
    public var workers: Component
    public var lag: Int?
    public var pending: Int?
    public var deadLetters: Int?
    public var productivityScoreAgeSeconds: Double?
}
