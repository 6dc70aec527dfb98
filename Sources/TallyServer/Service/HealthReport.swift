/// `GET /health`: the state of each component; ready when the log answers and workers run.
public struct HealthReport: Sendable, Codable, Equatable {
    public struct Component: Sendable, Codable, Equatable {
        public var healthy: Bool
        public var detail: String
    }

    public var ready: Bool
    public var backend: String
    public var store: Component
    public var workers: Component
    public var lag: Int?
    public var pending: Int?
    public var deadLetters: Int?
    public var productivityScoreAgeSeconds: Double?
}
