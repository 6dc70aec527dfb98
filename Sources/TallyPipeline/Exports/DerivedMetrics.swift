import TallyMetrics

/// The global derived metrics at one moment, as the JSON API returns them.
///
/// Every node computes the same value from the shared state (window buckets
/// merged at `computedAt`, the store's clock) and the figures the leader
/// stored (the score, the session figures). Ratios and quantiles are nil when
/// there is nothing to compute them from.
public struct DerivedMetrics: Sendable, Codable, Equatable {
    /// Quantiles of a distribution.
    public struct Quantiles: Sendable, Codable, Equatable {
        public var p50: Double?
        public var p90: Double?
        public var p95: Double?
        public var p99: Double?
        public var count: Double
        public var sum: Double

        public init(_ sketch: QuantileSketch) {
            p50 = sketch.quantile(0.5)
            p90 = sketch.quantile(0.9)
            p95 = sketch.quantile(0.95)
            p99 = sketch.quantile(0.99)
            count = sketch.count
            sum = sketch.sum
        }
    }

    /// Unix seconds, the store's clock (Redis's `TIME`).
    public var computedAt: Double
    public var windowSeconds: Int
    /// Completion latency over the window, in seconds.
    public var completionLatencySeconds: Quantiles
    public var completions: Double
    /// Accepted / completions over the window.
    public var acceptanceRatio: Double?
    /// Tool calls since the state began, by tool (capped).
    public var toolCalls: [String: OutcomeCounts]
    /// Success / calls over the window, by tool.
    public var toolSuccessRatio: [String: Double]
    /// All tool calls over the window, every tool.
    public var windowToolCalls: OutcomeCounts
    /// Client errors since the state began, by code (capped).
    public var clientErrors: [String: Double]
    /// Active sessions, as the leader last counted them (0 before it first did: see `sessionFiguresAgeSeconds`).
    public var activeSessions: Int
    /// Tools per minute across active sessions.
    public var sessionToolsPerMinute: Quantiles
    /// Mean duration and tool calls of active sessions.
    public var meanSessionDurationSeconds: Double?
    public var meanSessionToolCalls: Double?
    /// Seconds since the leader computed the session figures (every few seconds); nil before any leader has.
    public var sessionFiguresAgeSeconds: Double?
    /// 0–100, from the leader; nil before the first computation and while the window holds no data.
    public var productivityScore: Double?
    /// Seconds since the leader last wrote the score, a "no data" one included (it writes every
    /// 30 s, idle or not); nil before any leader has written.
    public var productivityScoreAgeSeconds: Double?
    /// The log's figures (nil when read without a log).
    public var log: LogFigures?
}

/// Reads ``DerivedMetrics`` from a ``StateReader`` (and optionally an ``EventLogFront``).
///
/// Stateless: each `read` merges the window's buckets afresh, so any node gives the same answer. A read
/// costs the same whatever the number of live sessions: their figures are the leader's.
public struct DerivedMetricsReader: Sendable {
    public let store: any StateReader
    /// Where the log's figures come from; nil: the metrics carry none.
    let logFigures: (@Sendable () async throws -> LogFigures)?

    public init(store: any StateReader, log: (any EventLogFront)? = nil) {
        self.store = store
        if let log {
            self.logFigures = { try await log.figures() }
        } else {
            self.logFigures = nil
        }
    }

    /// A reader that takes the log's figures from `logFigures` (a node's one figures loop) instead
    /// of reading the log itself.
    public init(store: any StateReader, logFigures: @escaping @Sendable () async throws -> LogFigures) {
        self.store = store
        self.logFigures = logFigures
    }

    /// The metrics at `now`; nil (always, outside tests): the store's clock.
    public func read(now: Double? = nil) async throws -> DerivedMetrics {
        try await readWithSketches(now: now).metrics
    }

    /// The metrics, plus the window's latency sketch and the active sessions' tools-per-minute sketch
    /// (nil before the leader first computed it), for the summaries.
    func readWithSketches(now given: Double?) async throws -> (metrics: DerivedMetrics, latency: QuantileSketch, toolsPerMinute: QuantileSketch?) {
        let configuration = store.configuration
        let now: Double
        if let given { now = given } else { now = try await store.now() }
        let window = try await store.window(now: now)
        let sessions = try await store.sessionFigures()
        var windowTools = OutcomeCounts()
        for counts in window.toolCalls.values { windowTools = windowTools + counts }
        let score = try await store.score()
        let metrics = DerivedMetrics(
            computedAt: now,
            windowSeconds: configuration.windowSeconds,
            completionLatencySeconds: .init(window.latency),
            completions: window.completions,
            acceptanceRatio: window.completions > 0 ? window.accepted / window.completions : nil,
            toolCalls: try await store.toolCallTotals(),
            toolSuccessRatio: window.toolCalls.compactMapValues(\.successRatio),
            windowToolCalls: windowTools,
            clientErrors: try await store.errorCodeTotals(),
            activeSessions: sessions?.active ?? 0,
            sessionToolsPerMinute: .init(sessions?.toolsPerMinute ?? QuantileSketch()),
            meanSessionDurationSeconds: sessions?.meanDurationSeconds,
            meanSessionToolCalls: sessions?.meanToolCalls,
            sessionFiguresAgeSeconds: sessions.map { max(0, now - $0.computedAt) },
            productivityScore: score?.value,
            productivityScoreAgeSeconds: score.map { max(0, now - $0.computedAt) },
            log: try await logFigures?()
        )
        return (metrics, window.latency, sessions?.toolsPerMinute)
    }
}
