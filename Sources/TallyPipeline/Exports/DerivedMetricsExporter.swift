import Foundation
import Logging
import Synchronization
import TallyCore
import TallyMetrics

/// Publishes the global derived metrics in a ``MetricsRegistry`` under the
/// architecture's names, so every node's `/metrics` shows the same values.
///
/// `refresh` reads the store (and log) and updates every series; call it
/// periodically (`run(every:)`) — the registry's collect hook cannot await
/// Redis, so it only advances the score's age by the time since the last
/// refresh. Times are the store's clock (Redis's `TIME`): a node whose clock is
/// off shows the same window and the same ages as the others. Label families
/// are bounded by the store's caps. Thread-safe.
///
/// What a node shows depends only on the shared state at the time of its last
/// read, never on what it saw before: a tool without calls in the window has no
/// `tally_tool_success_ratio` series (on a node that saw its calls and on one
/// started later alike). When a read fails, the global gauges (the derived ones
/// and the log's lag, pending, oldest-pending-age and dead-letter figures) and
/// the summaries' quantiles read NaN until a read succeeds again, rather than
/// their last numbers; the failure is logged once per outage and the recovery once.
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
    let logger: Logger
    let clock: (@Sendable () -> Double)?
    /// The score's age at the last read, and when (this node's monotonic clock) that read was; nil
    /// while unknown. Guards `scoreAge`.
    private let scoreAgeAtRead = Mutex<(age: Double, computedAt: Double, readAt: ContinuousClock.Instant)?>(nil)
    private let latest = Mutex<DerivedMetrics?>(nil)
    private let state = Mutex(ExportState())

    struct ExportState {
        /// Tools that have a `tally_tool_success_ratio` series now.
        var ratioTools: Set<String> = []
        /// When reads started failing; nil while they succeed.
        var unreadableSince: ContinuousClock.Instant?
    }

    /// - Parameters:
    ///   - logger: where a failing read is reported (once per outage).
    ///   - clock: unix seconds, only for tests that replay a moment: the time `refresh()` reads at and
    ///     the score's age is computed from. Nil (the default): the store's clock.
    public init(registry: MetricsRegistry, reader: DerivedMetricsReader, logger: Logger = Logger(label: "tally.pipeline.exporter"),
                clock: (@Sendable () -> Double)? = nil) throws {
        self.reader = reader
        self.logger = logger
        self.clock = clock
        let configuration = reader.store.configuration
        let tools = configuration.maxTools + 1
        latency = try registry.register(WindowSummary.self, name: "tally_completion_latency_seconds",
                                        help: "Completion latency over the sliding window (global).", options: .default)
        acceptance = try registry.register(Gauge.self, name: "tally_suggestion_acceptance_ratio", help: "Accepted suggestions / completions over the window (global).")
        toolCalls = try registry.registerFamily(MirroredCounter.self, name: "tally_tool_calls_total", help: "Tool calls since the state began, by tool (capped) and outcome (global).",
                                                labelNames: ["tool", "outcome"], options: NoOptions(), maxSeries: 2 * tools)
        toolSuccess = try registry.registerFamily(Gauge.self, name: "tally_tool_success_ratio", help: "Successful / all calls of a tool over the window; no series for a tool without calls in the window (global).",
                                                  labelNames: ["tool"], options: NoOptions(), maxSeries: tools)
        clientErrors = try registry.registerFamily(MirroredCounter.self, name: "tally_client_errors_total", help: "Client error events since the state began, by code (capped, global).",
                                                   labelNames: ["code"], options: NoOptions(), maxSeries: configuration.maxErrorCodes + 1)
        sessionsActive = try registry.register(Gauge.self, name: "tally_sessions_active", help: "Sessions not ended with an event within the inactivity timeout (global).")
        toolsPerMinute = try registry.register(WindowSummary.self, name: "tally_session_tools_per_minute",
                                               help: "Tool calls per minute of session time, across active sessions (global).", options: .default)
        score = try registry.register(Gauge.self, name: "tally_productivity_score", help: "Composite productivity score 0-100 computed by the leader; NaN while the window holds no data (global).")
        scoreAge = try registry.register(Gauge.self, name: "tally_productivity_score_age_seconds", help: "Seconds since the leader last wrote the score, a no-data score included.")
        lag = try registry.register(Gauge.self, name: "tally_stream_lag_events", help: "Entries not yet delivered to the worker group (global).")
        pending = try registry.register(Gauge.self, name: "tally_stream_pending_events", help: "Entries delivered and not acknowledged (global).")
        deadLetters = try registry.register(Gauge.self, name: "tally_dead_letter_events", help: "Entries in the dead-letter stream (global).")
        oldestPendingAge = try registry.register(Gauge.self, name: "tally_stream_oldest_pending_age_seconds",
                                                 help: "Seconds since the oldest delivered, unacknowledged entry was appended; 0 when none is pending (global).")
        // Nothing is known before the first read: no score yet is NaN, not a score of 0 computed just
        // now, and a node that just restarted must not report 0 dead letters or 0 lag (Prometheus's
        // max and min_over_time skip NaN, so the other nodes' values stand).
        for gauge in [acceptance, sessionsActive, score, scoreAge, lag, pending, deadLetters, oldestPendingAge] { gauge.set(.nan) }
        latency.markUnknown()
        toolsPerMinute.markUnknown()
        registry.addCollectHook { [weak self] in self?.updateScoreAge() }
    }

    private func updateScoreAge() {
        let now = clock?()
        scoreAgeAtRead.withLock { read in
            guard let read else { return }
            if let now {
                scoreAge.set(max(0, now - read.computedAt))
            } else {
                let elapsed = ContinuousClock.now - read.readAt
                scoreAge.set(read.age + elapsed.secondsValue)
            }
        }
    }

    /// The last refreshed value; nil before the first read and while reads fail.
    public var lastMetrics: DerivedMetrics? { latest.withLock { $0 } }

    /// Whether the last read failed (the global gauges read NaN).
    public var isUnreadable: Bool { state.withLock { $0.unreadableSince != nil } }

    /// Reads the shared state at `now` (default: the exporter's clock if it has one, else the
    /// store's) and updates every series; returns what it read. When the read fails, the global gauges
    /// are set to NaN (the failure is logged once per outage) and the error is thrown.
    @discardableResult
    public func refresh(now: Double? = nil) async throws -> DerivedMetrics {
        let now = now ?? clock?()
        let read: (metrics: DerivedMetrics, latency: QuantileSketch, toolsPerMinute: QuantileSketch?)
        do {
            read = try await reader.readWithSketches(now: now)
        } catch {
            markUnreadable(error: error)
            throw error
        }
        publish(read.metrics, latency: read.latency, toolsPerMinute: read.toolsPerMinute)
        return read.metrics
    }

    private func publish(_ metrics: DerivedMetrics, latency latencySketch: QuantileSketch, toolsPerMinute perMinuteSketch: QuantileSketch?) {
        latency.set(latencySketch)
        if let perMinuteSketch {
            toolsPerMinute.set(perMinuteSketch)
            sessionsActive.set(Double(metrics.activeSessions))
        } else {
            // The leader has not counted the sessions yet: unknown, not zero.
            toolsPerMinute.markUnknown()
            sessionsActive.set(.nan)
        }
        acceptance.set(metrics.acceptanceRatio ?? .nan)
        for (tool, counts) in metrics.toolCalls {
            toolCalls.labels(tool, "success").set(counts.success)
            toolCalls.labels(tool, "failure").set(counts.failure)
        }
        let outage = state.withLock { s -> ContinuousClock.Instant? in
            // A tool whose calls all left the window loses its series: the ratio of nothing is not its last value.
            for (tool, ratio) in metrics.toolSuccessRatio { toolSuccess.labels(tool).set(ratio) }
            for tool in s.ratioTools where metrics.toolSuccessRatio[tool] == nil { toolSuccess.remove([tool]) }
            s.ratioTools = Set(metrics.toolSuccessRatio.keys)
            defer { s.unreadableSince = nil }
            return s.unreadableSince
        }
        for (code, count) in metrics.clientErrors { clientErrors.labels(code).set(count) }
        score.set(metrics.productivityScore ?? .nan)
        scoreAgeAtRead.withLock { read in
            read = metrics.productivityScoreAgeSeconds.map { ($0, metrics.computedAt - $0, ContinuousClock.now) }
            scoreAge.set(metrics.productivityScoreAgeSeconds ?? .nan)
        }
        if let figures = metrics.log {
            lag.set(Double(figures.lag))
            pending.set(Double(figures.pending))
            deadLetters.set(Double(figures.deadLetters))
            oldestPendingAge.set(figures.oldestPendingAgeSeconds)
        }
        latest.withLock { $0 = metrics }
        if let outage {
            logger.notice("the shared state can be read again; the global metrics are current", metadata: [
                "unreadable_seconds": "\((ContinuousClock.now - outage).components.seconds)",
            ])
        }
    }

    /// A read failed: every global gauge reads NaN, not its last number, until a read succeeds.
    private func markUnreadable(error: any Error) {
        let first = state.withLock { s -> Bool in
            for tool in s.ratioTools { toolSuccess.labels(tool).set(.nan) }
            guard s.unreadableSince == nil else { return false }
            s.unreadableSince = .now
            return true
        }
        scoreAgeAtRead.withLock { read in
            read = nil
            scoreAge.set(.nan)
        }
        for gauge in [acceptance, sessionsActive, score, lag, pending, deadLetters, oldestPendingAge] { gauge.set(.nan) }
        latency.markUnknown()
        toolsPerMinute.markUnknown()
        latest.withLock { $0 = nil }
        if first {
            logger.error("cannot read the shared state; the global metrics read NaN until it answers again (logged once per outage)", metadata: [
                "error": "\(error)",
            ])
        }
    }

    /// Refreshes every `interval` until the task is cancelled. A failed read sets the global gauges to
    /// NaN and is logged once per outage (see ``refresh(now:)``); the next read that succeeds restores them.
    public func run(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            _ = try? await refresh()
            try? await Task.sleep(for: interval)
        }
    }
}
