import Foundation
import Logging
import Synchronization
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

/// Collects what a logger was given, for tests that count log lines.
final class LogCapture: Sendable {
    let entries = Mutex<[(level: Logger.Level, message: String)]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    func count(_ level: Logger.Level) -> Int {
        entries.withLock { $0.filter { $0.level == level }.count }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.entries.withLock { $0.append((event.level, event.message.description)) }
        }
    }
}

@Suite struct DerivedMetricsExporterTests {
    @Test(arguments: Backend.allCases)
    func theRegistryShowsTheGlobalMetricsUnderTheArchitecturesNames(backend: Backend) async throws {
        try await backend.with { log, store, _ in
            let now = unixNow()
            let events: [TelemetryEvent] = [
                .sessionStart(id: "0", session: "s", at: now - 120),
                .completion(id: "1", session: "s", at: now - 60, latencyMilliseconds: 250, accepted: true),
                .completion(id: "2", session: "s", at: now - 60, latencyMilliseconds: 750, accepted: false),
                .toolCall(id: "3", session: "s", at: now - 60, tool: "grep", success: true),
                .toolCall(id: "4", session: "s", at: now - 60, tool: "grep", success: false),
                .clientError(id: "5", session: "s", at: now - 1, code: "timeout"),
            ]
            try await log.append(events.records)
            try await WorkerPoolTests.drain(log, workers: 1)
            _ = try await ScoreLeader(store: store, node: "n").runOnce()

            let registry = MetricsRegistry()
            let pipeline = try PipelineMetrics(registry: registry)
            pipeline.ingested.labels("completion").increment(by: 2)
            let exporter = try DerivedMetricsExporter(registry: registry, reader: DerivedMetricsReader(store: store, log: log))
            let derived = try await exporter.refresh()
            #expect(derived.acceptanceRatio == 0.5)
            #expect(derived.activeSessions == 1)
            // 2 tool calls over 119 s ≈ 1.008 per minute.
            #expect(abs(derived.sessionToolsPerMinute.p50! - 2 / (119.0 / 60)) / (2 / (119.0 / 60)) < 0.01)

            let text = registry.renderString(format: .prometheusText)
            for line in [
                "tally_suggestion_acceptance_ratio 0.5",
                #"tally_tool_calls_total{tool="grep",outcome="success"} 1"#,
                #"tally_tool_calls_total{tool="grep",outcome="failure"} 1"#,
                #"tally_tool_success_ratio{tool="grep"} 0.5"#,
                #"tally_client_errors_total{code="timeout"} 1"#,
                "tally_sessions_active 1.0",
                "tally_completion_latency_seconds_count 2",
                "tally_completion_latency_seconds_sum 1.0",
                "tally_stream_pending_events 0.0",
                "tally_dead_letter_events 0.0",
                #"tally_events_ingested_total{type="completion"} 2"#,
            ] {
                #expect(text.contains(line + "\n"), "missing \(line)")
            }
            for name in ["tally_completion_latency_seconds{quantile=\"0.99\"}", "tally_session_tools_per_minute{quantile=\"0.5\"}",
                         "tally_productivity_score ", "tally_productivity_score_age_seconds ", "tally_stream_lag_events ",
                         "tally_worker_batch_duration_seconds_bucket", "tally_events_dead_lettered_total "] {
                #expect(text.contains(name), "missing \(name)")
            }
            let problems = try await ExpositionCheckers.promtoolProblems(registry.render(format: .prometheusText))
            #expect(problems.isEmpty, "\(problems)")
            let json = try JSONEncoder().encode(derived)
            #expect(try JSONDecoder().decode(DerivedMetrics.self, from: json) == derived)
        }
    }

    /// The `tally_tool_success_ratio` lines of a rendering.
    static func ratioLines(_ registry: MetricsRegistry) -> [String] {
        registry.renderString(format: .prometheusText).split(separator: "\n").map(String.init).filter { $0.hasPrefix("tally_tool_success_ratio") }
    }

    /// A tool whose calls all left the window has no ratio series, on the node that exported its ratio
    /// before and on a node started afterwards alike; its all-time call counts stay.
    @Test(arguments: Backend.allCases)
    func aToolWithoutCallsInTheWindowHasNoRatioSeriesOnAnyNode(backend: Backend) async throws {
        try await backend.with { _, store, _ in
            let start = 1_800_000_000.0
            func apply(_ events: [TelemetryEvent], now: Double) async throws {
                try await store.apply(DeltaCalculator.delta(for: events.records, bucketSeconds: 10), now: now)
            }
            try await apply([
                .toolCall(id: "1", session: "s", at: start - 1, tool: "grep", success: true),
                .toolCall(id: "2", session: "s", at: start - 1, tool: "grep", success: false),
            ], now: start)
            let registry = MetricsRegistry()
            let node = try DerivedMetricsExporter(registry: registry, reader: DerivedMetricsReader(store: store))
            try await node.refresh(now: start)
            #expect(Self.ratioLines(registry) == [#"tally_tool_success_ratio{tool="grep"} 0.5"#])

            try await apply([.toolCall(id: "3", session: "s", at: start + 199, tool: "edit", success: true)], now: start + 199)
            try await node.refresh(now: start + 200)
            #expect(Self.ratioLines(registry) == [#"tally_tool_success_ratio{tool="edit"} 1.0"#, #"tally_tool_success_ratio{tool="grep"} 0.5"#])

            // grep's calls left the window at start + 300.
            try await node.refresh(now: start + 300)
            #expect(Self.ratioLines(registry) == [#"tally_tool_success_ratio{tool="edit"} 1.0"#])
            let text = registry.renderString(format: .prometheusText)
            #expect(text.contains(#"tally_tool_calls_total{tool="grep",outcome="failure"} 1"#))
            let laterRegistry = MetricsRegistry()
            let later = try DerivedMetricsExporter(registry: laterRegistry, reader: DerivedMetricsReader(store: store))
            try await later.refresh(now: start + 300)
            #expect(Self.ratioLines(laterRegistry) == Self.ratioLines(registry))

            // Nothing in the window: no series at all, the same on both nodes.
            try await node.refresh(now: start + 500)
            try await later.refresh(now: start + 500)
            #expect(Self.ratioLines(registry).isEmpty)
            #expect(Self.ratioLines(laterRegistry).isEmpty)
            #expect(try await node.refresh(now: start + 500).toolSuccessRatio.isEmpty)

            // A tool that comes back gets its series back.
            try await apply([.toolCall(id: "4", session: "s", at: start + 599, tool: "grep", success: true)], now: start + 599)
            try await node.refresh(now: start + 600)
            #expect(Self.ratioLines(registry) == [#"tally_tool_success_ratio{tool="grep"} 1.0"#])
        }
    }

    /// A node whose Redis is gone reports NaN for every global gauge it cannot read, never its last
    /// numbers, and says so once per outage; when Redis answers again the numbers come back.
    @Test func aNodeThatCannotReadTheStateReportsNaNAndLogsOncePerOutage() async throws {
        try await Backend.redis.with { log, store, harness in
            let server = try #require(harness.server)
            let now = unixNow()
            try await store.apply(DeltaCalculator.delta(for: [
                TelemetryEvent.sessionStart(id: "0", session: "s", at: now - 60),
                .completion(id: "1", session: "s", at: now - 2, latencyMilliseconds: 250, accepted: true),
                .toolCall(id: "2", session: "s", at: now - 2, tool: "grep", success: true),
            ].records, bucketSeconds: 10), now: now)
            try await log.append([TelemetryEvent.completion(id: "3", session: "s", at: now, latencyMilliseconds: 1, accepted: true)].records)
            _ = try await ScoreLeader(store: store, node: "n").runOnce()

            let capture = LogCapture()
            let registry = MetricsRegistry()
            let exporter = try DerivedMetricsExporter(registry: registry, reader: DerivedMetricsReader(store: store, log: log), logger: capture.logger)
            try await exporter.refresh()
            let gauges = ["tally_suggestion_acceptance_ratio", "tally_sessions_active", "tally_productivity_score", "tally_productivity_score_age_seconds",
                          "tally_stream_lag_events", "tally_stream_pending_events", "tally_dead_letter_events", "tally_stream_oldest_pending_age_seconds",
                          #"tally_tool_success_ratio{tool="grep"}"#, #"tally_completion_latency_seconds{quantile="0.5"}"#]
            var samples = ExpositionSamples(registry.renderString(format: .prometheusText)).values
            for name in gauges {
                let value = try #require(samples[name], "\(name) missing")
                #expect(value.isFinite, "\(name) is \(value) before the outage")
            }
            #expect(samples["tally_stream_lag_events"] == 1)

            await server.kill()
            for _ in 0..<3 {
                await #expect(throws: (any Error).self) { try await exporter.refresh() }
            }
            #expect(exporter.isUnreadable)
            #expect(exporter.lastMetrics == nil)
            samples = ExpositionSamples(registry.renderString(format: .prometheusText)).values
            for name in gauges {
                let value = try #require(samples[name], "\(name) missing")
                #expect(value.isNaN, "\(name) is \(value) while the state cannot be read")
            }
            // Counters keep their last totals (a counter is never NaN).
            #expect(samples[#"tally_tool_calls_total{tool="grep",outcome="success"}"#] == 1)
            #expect(capture.count(.error) == 1, "\(capture.entries.withLock { $0 })")

            // Redis is back (empty: it keeps nothing on disk); the node reads it again and says so once.
            try await server.restart()
            try await log.prepare()
            try await waitUntil(timeout: .seconds(30)) { (try? await exporter.refresh()) != nil }
            samples = ExpositionSamples(registry.renderString(format: .prometheusText)).values
            #expect(samples["tally_stream_lag_events"] == 0)
            // The restarted Redis holds no session figures: unknown until a leader counts the sessions.
            #expect(samples["tally_sessions_active"]?.isNaN == true)
            _ = try await ScoreLeader(store: store, node: "n").runOnce()
            try await exporter.refresh()
            samples = ExpositionSamples(registry.renderString(format: .prometheusText)).values
            #expect(samples["tally_sessions_active"] == 0)
            #expect(samples["tally_dead_letter_events"] == 0)
            #expect(!exporter.isUnreadable)
            #expect(capture.count(.error) == 1)
            #expect(capture.count(.notice) == 1)
        }
    }
}
