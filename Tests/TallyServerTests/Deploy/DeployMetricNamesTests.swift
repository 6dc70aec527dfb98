import AsyncHTTPClient
import Foundation
import Testing
import TallyTesting

/// The dashboard and the alert rules name only metrics that exist: checked
/// against the `/metrics` of a real `tally serve` after events were sent.
@Suite struct DeployMetricNamesTests {
    /// Sample names (`name` without labels) of a node's `/metrics` after the known events and a bad request.
    static func exportedSampleNames() async throws -> Set<String> {
        let (serve, base, client) = try await ServeProcessTests.runningServe()
        defer { if serve.isRunning { serve.terminate() } }
        #expect(try await NodeTraffic.post(base, NodeTraffic.knownEvents, client: client) == 202)
        #expect(try await NodeTraffic.post(base, "{", client: client, contentType: "application/json") == 400)
        let applied = try await eventually { ServeProcessTests.appliedCounts(try await ServeProcessTests.metricsJSON(base, client: client)) == NodeTraffic.knownAppliedCount }
        #expect(applied)
        let (status, text) = try await ServeProcessTests.get(base + "/metrics", client: client)
        #expect(status == 200)
        serve.terminate()
        serve.waitUntilExit()
        try await client.shutdown()
        return Set(ExpositionSamples(text).values.keys.map { String($0.prefix { $0 != "{" }) })
    }

    /// Recording rules defined in alerts.yml.
    static func recordedNames() throws -> Set<String> {
        Set(RuleFile.rules(try DeployFiles.text("deploy/prometheus/alerts.yml")).filter { !$0.isAlert }.map(\.name))
    }

    @Test func everyMetricTheDashboardAndTheTallyAlertsUseIsExportedByARunningNode() async throws {
        let exported = try await Self.exportedSampleNames()
        #expect(exported.contains("tally_workers_running"))
        #expect(exported.contains("tally_stream_oldest_pending_age_seconds"))

        let dashboard = try JSONSerialization.jsonObject(with: Data(try DeployFiles.text("deploy/grafana/tally.json").utf8))
        let expressions = DashboardExpressions.all(dashboard)
        #expect(expressions.count >= 20, "the dashboard has \(expressions.count) expressions")
        for expression in expressions {
            for name in try PromQLNames.metricNames(in: expression) {
                #expect(exported.contains(name), "the dashboard uses \(name), which tally serve does not export: \(expression)")
            }
        }

        // Alerts: Tally's own metrics (and Hummingbird's through Tally's factory) must be exported;
        // the instrumentation kit's (docs/metrics.md) are exported by the applications that use the kit.
        let documented = DocumentedMetrics.names(try DeployFiles.text("docs/metrics.md"))
        let recorded = try Self.recordedNames()
        let histogramSuffixes = ["_bucket", "_count", "_sum"]
        func documentedName(_ name: String) -> Bool {
            documented.contains(name) || histogramSuffixes.contains { name.hasSuffix($0) && documented.contains(String(name.dropLast($0.count))) }
        }
        var kitOnly: Set<String> = []
        for rule in RuleFile.rules(try DeployFiles.text("deploy/prometheus/alerts.yml")) {
            for name in try PromQLNames.metricNames(in: rule.expr) where !recorded.contains(name) && name != "up" {
                if exported.contains(name) { continue }
                #expect(documentedName(name), "\(rule.name) uses \(name): neither exported by tally serve nor documented in docs/metrics.md")
                kitOnly.insert(name)
            }
        }
        // Only the kit's, the sampler/buffer meta-metrics' and the Redis figures' names may be missing here.
        let tallyMissing = kitOnly.filter { $0.hasPrefix("tally_") && !$0.hasPrefix("tally_redis_") && !$0.hasPrefix("tally_buffer_") && !$0.hasPrefix("tally_sampler_") }
        #expect(tallyMissing.isEmpty, "Tally metrics used by alerts but not exported: \(tallyMissing.sorted())")
    }

    @Test func metricNamesAreReadFromPromQL() throws {
        let names = try PromQLNames.metricNames(in: """
        histogram_quantile(0.99, sum by (job, le) (rate(db_query_duration_seconds_bucket{pool="redis", query_type!~".*block.*"}[5m]))) > 0.05
          and on (job) job:tally_stream_lag_events:max > 1e3 unless deriv(queue_depth_messages[15m:1m]) offset 1h
        """)
        #expect(names == ["db_query_duration_seconds_bucket", "job:tally_stream_lag_events:max", "queue_depth_messages"])
    }
}
