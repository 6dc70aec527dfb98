import Testing
import TallyMetrics
import TallyTesting

@Suite struct ExpositionTests {
    /// A registry with every metric type, escaping edge cases, special floats and an overflow series.
    static func populatedRegistry() throws -> MetricsRegistry {
        let registry = MetricsRegistry()
        let requests = try registry.registerFamily(
            Counter.self, name: "http_requests_total", help: "HTTP requests by method and status.", labelNames: ["method", "status"]
        )
        requests.labels("GET", "200").increment(by: 5)
        requests.labels("POST", "500").increment()
        let cost = try registry.register(FloatingCounter.self, name: "llm_cost_dollars_total", help: "Money spent.")
        cost.increment(by: 0.125)
        let weird = try registry.registerFamily(
            Gauge.self, name: "weird_values", help: "Help with \\ backslash, \"quotes\"\nand a newline.", labelNames: ["text"]
        )
        weird.labels("quote \" backslash \\ newline \n end").set(1)
        weird.labels("unicode ✓ é 日本").set(2)
        weird.labels("nan").set(.nan)
        weird.labels("plus").set(.infinity)
        weird.labels("minus").set(-.infinity)
        weird.labels("small").set(1e-9)
        let size = try registry.register(Gauge.self, name: "buffer_size_bytes", help: "Buffer size.", unit: "bytes")
        size.set(4096)
        let latency = try registry.registerFamily(
            Histogram.self, name: "request_duration_seconds", help: "Request latency.", labelNames: ["route"], unit: "seconds", options: .defaultSeconds
        )
        for (index, value) in [0.003, 0.02, 0.02, 0.4, 3, 12].enumerated() {
            latency.labels(index % 2 == 0 ? "/a" : "/b").observe(value)
        }
        let summary = try registry.register(Summary.self, name: "completion_latency_seconds", help: "Completion latency.", options: .default)
        for i in 1...1000 { summary.observe(Double(i) / 1000) }
        let tools = try registry.registerFamily(Counter.self, name: "tool_calls_total", help: "Tool calls.", labelNames: ["tool", "outcome"], maxSeries: 2)
        for tool in ["a", "b", "c", "d"] { tools.labels(tool, "success").increment() }
        return registry
    }

    @Test func textFormatPassesPromtoolWithoutAnyLintMessage() async throws {
        let exposition = try Self.populatedRegistry().render(format: .prometheusText)
        let problems = try await ExpositionCheckers.promtoolProblems(exposition)
        #expect(problems.isEmpty, "promtool: \(problems)\n\(String(decoding: exposition, as: UTF8.self))")
    }

    @Test func openMetricsOutputParsesWithAnIndependentParserAndRoundTripsValues() async throws {
        let registry = try Self.populatedRegistry()
        let exposition = registry.render(format: .openMetrics)
        let parsed = try await ExpositionCheckers.openMetricsSamples(exposition)
        let text = String(decoding: exposition, as: UTF8.self)
        #expect(parsed.error == nil, "\(parsed.error ?? "")\n\(text)")
        let samples = Set(parsed.samples)
        for expected in [
            "http_requests_total{method=\"GET\",status=\"200\"} 5.0",
            "http_requests_total{method=\"POST\",status=\"500\"} 1.0",
            "llm_cost_dollars_total{} 0.125",
            "weird_values{text=\"quote \\\" backslash \\\\ newline \\n end\"} 1.0",
            "weird_values{text=\"unicode ✓ é 日本\"} 2.0",
            "weird_values{text=\"nan\"} nan",
            "weird_values{text=\"plus\"} inf",
            "weird_values{text=\"minus\"} -inf",
            "weird_values{text=\"small\"} 1e-09",
            "buffer_size_bytes{} 4096.0",
            "request_duration_seconds_bucket{le=\"0.005\",route=\"/a\"} 1.0",
            "request_duration_seconds_bucket{le=\"+Inf\",route=\"/a\"} 3.0",
            "request_duration_seconds_count{route=\"/b\"} 3.0",
            "request_duration_seconds_sum{route=\"/b\"} 12.42",
            "completion_latency_seconds_count{} 1000.0",
            "tool_calls_total{outcome=\"__overflow__\",tool=\"__overflow__\"} 2.0",
        ] {
            #expect(samples.contains(expected), "missing \(expected) in \(parsed.samples)")
        }
        // The summary's median is within the sketch's accuracy of 0.5.
        let median = parsed.samples.first { $0.hasPrefix("completion_latency_seconds{quantile=\"0.5\"}") }
        let value = median.flatMap { Double($0.split(separator: " ").last!) }
        #expect(value.map { abs($0 - 0.5) / 0.5 <= 0.0055 } == true)
        #expect(parsed.samples.contains { $0.hasPrefix("http_requests_created{method=\"GET\",status=\"200\"}") })
    }

    @Test func openMetricsHasTypeUnitHelpAndEndsWithEOF() throws {
        let text = try Self.populatedRegistry().renderString(format: .openMetrics)
        #expect(text.hasSuffix("# EOF\n"))
        #expect(text.contains("# TYPE http_requests counter\n"))
        #expect(text.contains("# TYPE buffer_size_bytes gauge\n# UNIT buffer_size_bytes bytes\n"))
        #expect(text.contains("# HELP weird_values Help with \\\\ backslash, \\\"quotes\\\"\\nand a newline.\n"))
    }

    @Test func textFormatNamesCountersWithTotalAndEscapesHelpAsPrometheusDoes() throws {
        let text = try Self.populatedRegistry().renderString(format: .prometheusText)
        #expect(text.contains("# TYPE http_requests_total counter\n"))
        #expect(text.contains("# HELP weird_values Help with \\\\ backslash, \"quotes\"\\nand a newline.\n"))
        #expect(text.contains("weird_values{text=\"nan\"} NaN\n"))
        #expect(text.contains("weird_values{text=\"plus\"} +Inf\n"))
        #expect(text.contains("weird_values{text=\"minus\"} -Inf\n"))
        #expect(text.contains("request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"))
        #expect(!text.contains("_created"))
        #expect(!text.contains("# EOF"))
    }

    @Test func familiesAndSeriesComeInADeterministicOrder() throws {
        let registry = try Self.populatedRegistry()
        let first = registry.renderString()
        #expect(first == registry.renderString())
        let typeLines = first.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        #expect(typeLines == typeLines.sorted())
        let requestLines = first.split(separator: "\n").filter { $0.hasPrefix("http_requests_total{") }
        #expect(requestLines.first?.contains("GET") == true)
    }

    @Test(arguments: [
        (nil as String?, ExpositionFormat.prometheusText),
        ("", .prometheusText),
        ("text/plain", .prometheusText),
        ("application/openmetrics-text", .openMetrics),
        ("application/openmetrics-text; version=1.0.0; charset=utf-8", .openMetrics),
        ("application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", .openMetrics),
        ("application/openmetrics-text;version=2.0.0", .prometheusText),
        ("text/plain;q=0.9, application/openmetrics-text;q=0.5", .prometheusText),
        ("application/openmetrics-text;q=0", .prometheusText),
        ("application/json", .prometheusText),
    ])
    func acceptHeaderChoosesTheFormat(accept: String?, expected: ExpositionFormat) {
        #expect(ExpositionFormat.negotiate(accept: accept) == expected)
    }

    @Test func contentTypesNameTheFormatVersions() {
        #expect(ExpositionFormat.prometheusText.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(ExpositionFormat.openMetrics.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
    }

    @Test func renderingDoesNotBlockRecorders() async throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "busy_total", help: "x", labelNames: ["k"])
        for i in 0..<1_000 { family.labels("k\(i)").increment() }
        let counter = family.labels("k0")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for _ in 0..<50 { _ = registry.render(format: .openMetrics) } }
            group.addTask { for _ in 0..<200_000 { counter.increment() } }
            try await group.waitForAll()
        }
        #expect(counter.value == 200_001)
    }
}
