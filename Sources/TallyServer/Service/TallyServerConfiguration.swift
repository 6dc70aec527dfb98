/// Everything `tally serve` can be told; every field has a default a demanding
/// user would pick for a single node on loopback.
public struct TallyServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// `redis://…` or `unix://…`; nil runs on the embedded in-memory log and state (not durable).
    public var redisURL: String?
    /// In-process worker tasks.
    public var workers = 2
    /// When set, `POST /v1/events` needs `Authorization: Bearer <token>`.
    public var token: String?
    /// The largest request body accepted, in bytes; enforced while the body streams in.
    public var maxBodyBytes = 1 << 20
    /// How long an `Idempotency-Key` is remembered.
    public var idempotencyWindow: Duration = .seconds(600)
    /// `Retry-After` sent with a 503 when the log is unreachable.
    public var retryAfterSeconds = 1
    /// How often the derived metrics are read back from the store; `/metrics`
    /// shows the last read (`/v1/metrics` always reads afresh).
    public var refreshInterval: Duration = .seconds(1)

    public init() {}

    /// The configuration for a start-up log line, secrets masked.
    public var loggable: String {
        var redis = "embedded in-memory (not durable)"
        if let redisURL {
            redis = Self.maskingPassword(in: redisURL)
        }
        return "host=\(self.host) port=\(self.port) redis=\(redis) workers=\(self.workers) token=\(self.token == nil ? "none" : "***") max_body_bytes=\(self.maxBodyBytes)"
    }

    /// `redis://user:pw@host` → `redis://***@host`.
    public static func maskingPassword(in url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.range(of: "@", range: schemeEnd.upperBound..<url.endIndex) else {
            return url
        }
        return String(url[..<schemeEnd.upperBound]) + "***" + String(url[at.lowerBound...])
    }
}
