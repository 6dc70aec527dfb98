import Foundation
import Synchronization
import TallyMetrics

/// Publishes the global derived metrics in a ``MetricsRegistry`` under the
/// architecture's names, so every node's `/metrics` shows the same values.
///
/// `refresh` reads the store (and log) and updates every series; call it
/// periodically (`run(every:)`) — the registry's collect hook cannot await
/// Redis, so it only recomputes the score's age from the last refresh. Label
/// families are bounded by the store's caps. Thread-safe.
public final class DerivedMetricsExporter: Sendable {
    public let reader: DerivedMetricsReader
    let latency: WindowSummary
    let acceptance: Gauge
    let toolCalls: MetricFamily<MirroredCounter>
    let toolSuccess: MetricFamily<Gauge>
    let clientErrors: MetricFamily<MirroredCounter>
    let sessionsActive: Gauge
    let toolsPerMinute: WindowSummary
    let score: Gauge
    let scoreAge: Gauge
    let lag: Gauge
    let pending: Gauge
    let deadLetters: Gauge
    let oldestPendingAge: Gauge
    private let scoreComputedAt = Mutex<Double?>(nil)
    private let latest = Mutex<DerivedMetrics?>(nil)

    public init(registry: MetricsRegistry, reader: DerivedMetricsReader) throws {
        self.reader = reader
        let configuration = reader.store.configuration
        let tools = configuration.maxTools + 1
        latency = try registry.register(WindowSummary.self, name: "tally_completion_latency_seconds",
                                        help: "Completion latency over the sliding window (global).", options: .default)
        acceptance = try registry.register(Gauge.self, name: "tally_suggestion_acceptance_ratio", help: "Accepted suggestions / completions over the window (global).")
        toolCalls = try registry.registerFamily(MirroredCounter.self, name: "tally_tool_calls_total", help: "Tool calls since the state began, by tool (capped) and outcome (global).",
                                                labelNames: ["tool", "outcome"], options: NoOptions(), maxSeries: 2 * tools)
        toolSuccess = try registry.registerFamily(Gauge.self, name: "tally_tool_success_ratio", help: "Successful / all calls of a tool over the window (global).",
                                                  labelNames: ["tool"], options: NoOptions(), maxSeries: tools)
        clientErrors = try registry.registerFamily(MirroredCounter.self, name: "tally_client_errors_total", help: "Client error events since the state began, by code (capped, global).",
                                                   labelNames: ["code"], options: NoOptions(), maxSeries: configuration.maxErrorCodes + 1)
        sessionsActive = try registry.register(Gauge.self, name: "tally_sessions_active", help: "Sessions not ended with an event within the inactivity timeout (global).")
        toolsPerMinute = try registry.register(WindowSummary.self, name: "tally_session_tools_per_minute",
                                               help: "Tool calls per minute of session time, across active sessions (global).", options: .default)
        score = try registry.register(Gauge.self, name: "tally_productivity_score", help: "Composite productivity score 0-100 computed by the leader (global).")
        scoreAge = try registry.register(Gauge.self, name: "tally_productivity_score_age_seconds", help: "Seconds since the productivity score was computed.")
        lag = try registry.register(Gauge.self, name: "tally_stream_lag_events", help: "Entries not yet delivered to the worker group (global).")
        pending = try registry.register(Gauge.self, name: "tally_stream_pending_events", help: "Entries delivered and not acknowledged (global).")
        deadLetters = try registry.register(Gauge.self, name: "tally_dead_letter_events", help: "Entries in the dead-letter stream (global).")
        oldestPendingAge = try registry.register(Gauge.self, name: "tally_stream_oldest_pending_age_seconds",
                                                 help: "Seconds since the oldest delivered, unacknowledged entry was appended; 0 when none is pending (global).")
        // No score yet is NaN, not a score of 0 computed just now. The log's figures are NaN until
        // the first refresh: a node that just restarted must not report 0 dead letters or 0 lag
        // (Prometheus's max and min_over_time skip NaN, so the other nodes' values stand).
        for gauge in [score, scoreAge, lag, pending, deadLetters, oldestPendingAge] { gauge.set(.nan) }
        registry.addCollectHook { [weak self] in self?.updateScoreAge() }
    }

    private func updateScoreAge() {
        if let at = scoreComputedAt.withLock({ $0 }) { scoreAge.set(max(0, Date().timeIntervalSince1970 - at)) }
    }

    /// The last refreshed value.
    public var lastMetrics: DerivedMetrics? { latest.withLock { $0 } }

    /// Reads the shared state and updates every series; returns what it read.
    @discardableResult
    public func refresh(now: Double = Date().timeIntervalSince1970) async throws -> DerivedMetrics {
        let (metrics, latencySketch, perMinuteSketch) = try await reader.readWithSketches(now: now)
        latency.set(latencySketch)
        toolsPerMinute.set(perMinuteSketch)
        acceptance.set(metrics.acceptanceRatio ?? .nan)
        for (tool, counts) in metrics.toolCalls {
            toolCalls.labels(tool, "success").set(counts.success)
            toolCalls.labels(tool, "failure").set(counts.failure)
        }
        for (tool, ratio) in metrics.toolSuccessRatio { toolSuccess.labels(tool).set(ratio) }
        for (code, count) in metrics.clientErrors { clientErrors.labels(code).set(count) }
        sessionsActive.set(Double(metrics.activeSessions))
        if let value = metrics.productivityScore { score.set(value) }
        scoreComputedAt.withLock { $0 = metrics.productivityScoreAgeSeconds.map { now - $0 } }
        if let age = metrics.productivityScoreAgeSeconds { scoreAge.set(age) }
        if let figures = metrics.log {
            lag.set(Double(figures.lag))
            pending.set(Double(figures.pending))
            deadLetters.set(Double(figures.deadLetters))
            oldestPendingAge.set(figures.oldestPendingAgeSeconds)
        }
        latest.withLock { $0 = metrics }
        return metrics
    }

    /// Refreshes every `interval` until the task is cancelled; errors are skipped (the last values stay).
    public func run(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            _ = try? await refresh()
            try? await Task.sleep(for: interval)
        }
    }
}
