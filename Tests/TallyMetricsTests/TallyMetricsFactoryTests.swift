import CoreMetrics
import Testing
import TallyMetrics
import TallyTesting

@Suite struct TallyMetricsFactoryTests {
    @Test func swiftMetricsTypesRecordIntoTheRegistry() throws {
        let registry = MetricsRegistry()
        let factory = TallyMetricsFactory(registry: registry)
        CoreMetrics.Counter(label: "hb_requests", dimensions: [("http.method", "GET")], factory: factory).increment(by: 3)
        CoreMetrics.FloatingPointCounter(label: "spend", factory: factory).increment(by: 1.5)
        let meter = CoreMetrics.Meter(label: "http.server.active_requests", factory: factory)
        meter.increment(by: 4)
        meter.decrement(by: 1)
        CoreMetrics.Recorder(label: "payload", aggregate: true, factory: factory).record(0.2)
        CoreMetrics.Recorder(label: "temperature", aggregate: false, factory: factory).record(21.5)
        CoreMetrics.Timer(label: "http.server.request.duration", dimensions: [("http.route", "/v1/events")], factory: factory)
            .recordNanoseconds(40_000_000)
        let samples = ExpositionSamples(registry.render(format: .prometheusText))
        #expect(samples["hb_requests_total{http_method=\"GET\"}"] == 3)
        #expect(samples["spend_total"] == 1.5)
        #expect(samples["http_server_active_requests"] == 3)
        #expect(samples["payload_count"] == 1)
        #expect(samples["temperature"] == 21.5)
        #expect(samples["http_server_request_duration_seconds_bucket{http_route=\"/v1/events\",le=\"0.05\"}"] == 1)
        #expect(samples["http_server_request_duration_seconds_bucket{http_route=\"/v1/events\",le=\"0.025\"}"] == 0)
    }

    @Test func theSameLabelAndDimensionsInAnyOrderShareOneSeries() {
        let registry = MetricsRegistry()
        let factory = TallyMetricsFactory(registry: registry)
        CoreMetrics.Counter(label: "calls", dimensions: [("a", "1"), ("b", "2")], factory: factory).increment()
        CoreMetrics.Counter(label: "calls", dimensions: [("b", "2"), ("a", "1")], factory: factory).increment()
        #expect(ExpositionSamples(registry.render(format: .prometheusText))["calls_total{a=\"1\",b=\"2\"}"] == 2)
    }

    @Test func destroyRemovesTheSeries() {
        let registry = MetricsRegistry()
        let factory = TallyMetricsFactory(registry: registry)
        let counter = CoreMetrics.Counter(label: "ephemeral", dimensions: [("k", "v")], factory: factory)
        counter.increment()
        #expect(registry.renderString().contains("ephemeral_total{k=\"v\"} 1"))
        counter.destroy()
        #expect(!registry.renderString().contains("ephemeral_total{k=\"v\"}"))
    }

    @Test func dimensionsAreCappedByTheSeriesLimit() {
        let registry = MetricsRegistry()
        let factory = TallyMetricsFactory(registry: registry, maxSeriesPerFamily: 10)
        for i in 0..<1_000 {
            CoreMetrics.Counter(label: "per_user", dimensions: [("user", "u\(i)")], factory: factory).increment()
        }
        let samples = ExpositionSamples(registry.render(format: .prometheusText))
        #expect(samples.values.keys.filter { $0.hasPrefix("per_user_total{") }.count == 11)
        #expect(samples["per_user_total{user=\"__overflow__\"}"] == 990)
    }

    @Test func anUnregistrableLabelIsCountedAndLoggedInsteadOfCrashing() {
        let registry = MetricsRegistry()
        let factory = TallyMetricsFactory(registry: registry)
        CoreMetrics.Counter(label: "clash", factory: factory).increment()
        // Same name, different type: cannot be exported, must not crash.
        CoreMetrics.Meter(label: "clash_total", factory: factory).set(1)
        CoreMetrics.Counter(label: "latency_ms", factory: factory).increment()
        let samples = ExpositionSamples(registry.render(format: .prometheusText))
        #expect(samples["tally_metrics_factory_errors_total"] == 2)
        #expect(samples["clash_total"] == 1)
    }

    @Test func labelsBecomeValidPrometheusNames() {
        #expect(TallyMetricsFactory.metricName(from: "http.server.request.duration") == "http_server_request_duration")
        #expect(TallyMetricsFactory.metricName(from: "9-lives") == "_9_lives")
        #expect(TallyMetricsFactory.metricName(from: "") == "_")
    }

    @Test func exportedFactoryOutputPassesPromtool() async throws {
        let registry = MetricsRegistry()
        let factory = TallyMetricsFactory(registry: registry)
        CoreMetrics.Timer(label: "http.server.request.duration", dimensions: [("http.route", "/")], factory: factory).recordNanoseconds(1_000)
        CoreMetrics.Counter(label: "hb.requests", factory: factory).increment()
        let problems = try await ExpositionCheckers.promtoolProblems(registry.render(format: .prometheusText))
        #expect(problems.isEmpty, "\(problems)")
    }
}
