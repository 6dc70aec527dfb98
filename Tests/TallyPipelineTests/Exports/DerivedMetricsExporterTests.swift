import Foundation
import TallyMetrics
import TallyPipeline
import TallyTesting
import Testing

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
}
