import AsyncHTTPClient
import Foundation
import Testing
import TallyTesting

/// A real scrape: Debian's `prometheus` on loopback scrapes a running
/// `tally serve` every second and evaluates `deploy/prometheus/alerts.yml`
/// every second; what its HTTP API answers matches what Tally computed.
/// The tests that start a Prometheus run one at a time (here and in the extensions in
/// `NativeHistogramScrapeTests.swift` and `ExemplarScrapeTests.swift`): each start is a burst of
/// CPU that, several at once, starves the rest of the suite on two cores.
@Suite(.serialized) struct PrometheusScrapeTests {
    /// A throwaway `prometheus` process scraping `target`, with the deploy rules loaded.
    final class PrometheusProcess: @unchecked Sendable {
        let process = Process()
        let folder: URL
        let base: String

        /// - Parameter features: `--enable-feature` values (e.g. `native-histograms`, which makes Prometheus ask for protobuf).
        init(target: String, features: [String] = []) throws {
            guard let binary = ExternalTool.locate("prometheus") else {
                throw ExternalTool.Failure.notInstalled("prometheus", hint: "apt-get install prometheus (scripts/test does)")
            }
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-prometheus-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:
              - \(DeployFiles.path("deploy/prometheus/alerts.yml"))
            scrape_configs:
              - job_name: tally
                static_configs:
                  - targets: ["\(target)"]
            """
            try config.write(to: folder.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
            let port = ServeProcessTests.freePort()
            base = "http://127.0.0.1:\(port)"
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "--config.file=\(folder.appendingPathComponent("prometheus.yml").path)",
                "--storage.tsdb.path=\(folder.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
                "--log.level=warn",
            ] + features.map { "--enable-feature=\($0)" }
            let log = folder.appendingPathComponent("prometheus.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var log: String {
            (try? String(contentsOf: folder.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
        }

        /// SIGTERM without waiting (for `defer`); ``stopAndWait()`` also waits for the exit.
        func stop() {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(at: folder)
        }

        func stopAndWait() async {
            if process.isRunning {
                process.terminate()
                await process.exited()
            }
            try? FileManager.default.removeItem(at: folder)
        }

        /// `GET /api/v1/query`: the instant vector's samples as (labels, value).
        func query(_ promql: String, client: HTTPClient) async throws -> (status: String, samples: [([String: String], Double)]) {
            var components = URLComponents(string: base + "/api/v1/query")!
            components.queryItems = [URLQueryItem(name: "query", value: promql)]
            let encoded = components.percentEncodedQuery!.replacingOccurrences(of: "+", with: "%2B")
            let (_, body) = try await ServeProcessTests.get(base + "/api/v1/query?" + encoded, client: client)
            let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
            let status = json["status"] as? String ?? "unreadable: \(body.prefix(300))"
            let result = ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            let samples = result.compactMap { item -> ([String: String], Double)? in
                guard let value = item["value"] as? [Any], value.count == 2, let text = value[1] as? String, let number = Double(text) else { return nil }
                return ((item["metric"] as? [String: String]) ?? [:], number)
            }
            return (status, samples)
        }

        /// Polls until the query returns at least one sample whose value satisfies `accept`, for up to `seconds`.
        func value(_ promql: String, client: HTTPClient, seconds: Double = 30, where accept: @escaping @Sendable (Double) -> Bool = { _ in true }) async throws -> Double? {
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            while ContinuousClock.now < deadline {
                if let (_, value) = try? await query(promql, client: client).samples.first, accept(value) { return value }
                try await Task.sleep(for: .milliseconds(250))
            }
            return nil
        }
    }

    /// The number that follows `key` in a JSON text.
    static func number(in text: String, after key: String) -> Double? {
        guard let range = text.range(of: key) else { return nil }
        return Double(String(text[range.upperBound...].prefix { "0123456789.eE+-".contains($0) }))
    }

    @Test func prometheusScrapesTheDerivedMetricsAndRecordsTheRulesWithTallysValues() async throws {
        let (serve, base, client) = try await ServeProcessTests.runningServe()
        defer { if serve.isRunning { serve.terminate() } }
        let prometheus = try PrometheusProcess(target: String(base.dropFirst("http://".count)))
        defer { prometheus.stop() }

        #expect(try await NodeTraffic.post(base, NodeTraffic.knownEvents, client: client) == 202)
        let applied = try await eventually { ServeProcessTests.appliedCounts(try await ServeProcessTests.metricsJSON(base, client: client)) == NodeTraffic.knownAppliedCount }
        #expect(applied)
        // Once Prometheus has scraped them, one more session start: a counter that moves between scrapes has a rate.
        let first = try await prometheus.value("sum(tally_events_ingested_total)", client: client) { $0 == Double(NodeTraffic.knownEventCount) }
        #expect(first == Double(NodeTraffic.knownEventCount), "prometheus log:\n\(prometheus.log.suffix(3000))")
        #expect(try await NodeTraffic.post(base, #"{"type":"session_start","session_id":"late"}"#, client: client) == 202)

        // The numbers as Tally computed them, read from the JSON text (Foundation's JSONSerialization
        // on Linux can be 1 ulp off on some doubles; Double(String) is exact).
        let (_, body) = try await ServeProcessTests.get(base + "/v1/metrics", client: client)
        let acceptance = try #require(Self.number(in: body, after: #""acceptanceRatio":"#))
        #expect(acceptance == 0.75)
        let latency = try #require(body.range(of: #""completionLatencySeconds":{"#).map { String(body[$0.upperBound...].prefix { $0 != "}" }) })
        let latencyP50 = try #require(Self.number(in: latency, after: #""p50":"#))
        let latencyP99 = try #require(Self.number(in: latency, after: #""p99":"#))

        // Scraped derived metrics: the same numbers Tally computed.
        let scraped = try await prometheus.value("tally_suggestion_acceptance_ratio", client: client)
        #expect(scraped == acceptance, "prometheus log:\n\(prometheus.log.suffix(3000))")
        for (quantile, expected) in [("0.5", latencyP50), ("0.99", latencyP99)] {
            let value = try await prometheus.value(#"tally_completion_latency_seconds{quantile="\#(quantile)"}"#, client: client)
            #expect(value == expected, "quantile \(quantile): prometheus \(String(describing: value)), tally \(expected)")
        }
        let count = try await prometheus.value("tally_completion_latency_seconds_count", client: client)
        #expect(count == 20)
        let ingested = try await prometheus.value("sum(tally_events_ingested_total)", client: client) { $0 == Double(NodeTraffic.knownEventCount + 1) }
        #expect(ingested == Double(NodeTraffic.knownEventCount + 1))

        // Recording rules of alerts.yml, evaluated by Prometheus every second.
        let recorded = try await prometheus.value(#"job:tally_suggestion_acceptance_ratio:max{job="tally"}"#, client: client)
        #expect(recorded == acceptance)
        let recordedP99 = try await prometheus.value(#"job:tally_completion_latency_seconds:max{job="tally", quantile="0.99"}"#, client: client)
        #expect(recordedP99 == latencyP99)
        let rate = try await prometheus.value(#"job:tally_events_ingested:rate5m{job="tally"}"#, client: client) { $0 > 0 }
        #expect(rate != nil, "the ingest rate recording rule never saw the events")
        let deadLetters = try await prometheus.value(#"job:tally_dead_letter_events:max{job="tally"}"#, client: client)
        #expect(deadLetters == 0)

        // Every dashboard expression is valid PromQL against the live data, and the global ones have data.
        let dashboard = try JSONSerialization.jsonObject(with: Data(try DeployFiles.text("deploy/grafana/tally.json").utf8))
        for expression in DashboardExpressions.all(dashboard) {
            let concrete = expression.replacingOccurrences(of: "$job", with: "tally").replacingOccurrences(of: "$__rate_interval", with: "1m")
            let (status, _) = try await prometheus.query(concrete, client: client)
            #expect(status == "success", "\(concrete): \(status)")
        }
        let withData = try await prometheus.value(#"max by (quantile) (tally_completion_latency_seconds{job="tally"})"#, client: client)
        #expect(withData != nil)

        // No alert of a healthy, lightly used node is even pending (idle and 0/0 ratios stay quiet).
        let alerts = try await prometheus.query("ALERTS", client: client)
        #expect(alerts.status == "success")
        #expect(alerts.samples.isEmpty, "alerts: \(alerts.samples.map(\.0))")

        await prometheus.stopAndWait()
        serve.terminate()
        await serve.exited()
    }
}
