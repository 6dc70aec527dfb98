import AsyncHTTPClient
import Foundation
import Testing
import TallyTesting

/// The dashboard and the alert rules name only metrics that exist: checked
/// against the `/metrics` of a real `tally serve` after events were sent.
@Suite struct DeployMetricNamesTests {
    /// Sample names (`name` without labels) of the `/metrics` of a node on Redis after the known events and a bad request.
    static func exportedSampleNames() async throws -> Set<String> {
        let redis = try await RedisServer.start()
        let port = ServeProcessTests.freePort()
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient.shared
        let serve = try ServeProcessTests.startServe(port: port, redis: redis.url)
        defer { if serve.isRunning { serve.terminate() } }
        #expect(try await ServeProcessTests.waitUntilUp(base, client: client))
        #expect(try await NodeTraffic.post(base, NodeTraffic.knownEvents, client: client) == 202)
        #expect(try await NodeTraffic.post(base, "{", client: client, contentType: "application/json") == 400)
        let applied = try await eventually { ServeProcessTests.appliedCounts(try await ServeProcessTests.metricsJSON(base, client: client)) == NodeTraffic.knownAppliedCount }
        #expect(applied)
        // `/metrics` shows the refresher's last read (every second): wait for the one after the events were applied.
        let refreshed = try await eventually(seconds: 30) {
            let (status, body) = try await ServeProcessTests.get(base + "/metrics", client: client)
            return status == 200 && body.contains("tally_tool_calls_total{") && body.contains("tally_client_errors_total{")
        }
        #expect(refreshed)
        let (status, text) = try await ServeProcessTests.get(base + "/metrics", client: client)
        #expect(status == 200)
        serve.terminate()
        await serve.exited()
        await redis.stop()
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

        let tallyDashboard = try JSONSerialization.jsonObject(with: Data(try DeployFiles.text("deploy/grafana/tally.json").utf8))
        let expressions = DashboardExpressions.all(tallyDashboard)
        #expect(expressions.count >= 20, "the dashboard has \(expressions.count) expressions")
        for expression in expressions {
            for name in try PromQLNames.metricNames(in: expression) {
                #expect(exported.contains(name), "the dashboard uses \(name), which tally serve does not export: \(expression)")
            }
        }
        // The other dashboards graph a node (Tally's Redis, its processes) or an application using the kit:
        // each name is exported by a running node or by the kit, or recorded by a rule of alerts.yml.
        let kit = try KitExposition.sampleNames()
        let recordedNames = try Self.recordedNames()
        let folder = DeployFiles.path("deploy/grafana")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") && $0 != "tally.json" }.sorted()
        #expect(files.count >= 6, "dashboards: \(files)")
        for file in files {
            let dashboard = try JSONSerialization.jsonObject(with: Data(try DeployFiles.text("deploy/grafana/" + file).utf8))
            let expressions = DashboardExpressions.all(dashboard)
            #expect(expressions.count >= 5, "\(file) has \(expressions.count) expressions")
            for expression in expressions {
                for name in try PromQLNames.metricNames(in: expression) {
                    #expect(exported.contains(name) || kit.contains(name) || recordedNames.contains(name),
                            "\(file) uses \(name), which neither tally serve nor the kit exports and no rule records: \(expression)")
                }
            }
        }
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
                     "process_start_time_seconds", "process_virtual_memory_bytes", "tally_build_info", "tally_redis_up"] {
            #expect(exported.contains(name), "tally serve does not export \(name)")
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
        // Tally's own names must all be exported, except a family docs/metrics.md documents and this
        // build does not export at all yet (the Redis figures, the buffer and sampler meta-metrics of
        // the instrumentation kit): once any name of such a family is exported, all must be.
        let pendingFamilies = ["tally_redis_", "tally_buffer_", "tally_sampler_"].filter { prefix in !exported.contains { $0.hasPrefix(prefix) } }
        let tallyMissing = kitOnly.filter { name in name.hasPrefix("tally_") && !pendingFamilies.contains { name.hasPrefix($0) } }
        #expect(tallyMissing.isEmpty, "Tally metrics used by alerts but not exported by tally serve --redis: \(tallyMissing.sorted())")
    }

    @Test func metricNamesAreReadFromPromQL() throws {
        let names = try PromQLNames.metricNames(in: """
        histogram_quantile(0.99, sum by (job, le) (rate(db_query_duration_seconds_bucket{pool="redis", query_type!~".*block.*"}[5m]))) > 0.05
          and on (job) job:tally_stream_lag_events:max > 1e3 unless deriv(queue_depth_messages[15m:1m]) offset 1h
        """)
        #expect(names == ["db_query_duration_seconds_bucket", "job:tally_stream_lag_events:max", "queue_depth_messages"])
    }
}
