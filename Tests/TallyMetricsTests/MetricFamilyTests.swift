import Testing
import TallyMetrics
import TallyTesting

@Suite struct MetricFamilyTests {
    @Test func oneHundredThousandLabelValuesLeaveTheCapPlusOneSeriesAndAnExactTotal() throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "tool_calls_total", help: "Tool calls.", labelNames: ["tool"], maxSeries: 2_000)
        for i in 0..<100_000 {
            family.labels("tool-\(i)").increment()
        }
        #expect(family.seriesCount == 2_001)
        let samples = ExpositionSamples(registry.render(format: .prometheusText))
        let toolSamples = samples.values.filter { $0.key.hasPrefix("tool_calls_total{") }
        #expect(toolSamples.count == 2_001)
        #expect(toolSamples.values.reduce(0, +) == 100_000)
        #expect(samples["tool_calls_total{tool=\"__overflow__\"}"] == 98_000)
        #expect(samples["tally_metrics_overflow_total{metric=\"tool_calls\"}"] == 98_000)
    }

    @Test func labelOrderGivenByTheCallerDoesNotCreateASecondSeries() throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "requests_total", help: "Requests.", labelNames: ["method", "status"])
        family.labels([("method", "GET"), ("status", "200")]).increment()
        family.labels([("status", "200"), ("method", "GET")]).increment()
        family.labels("GET", "200").increment()
        #expect(family.seriesCount == 1)
        #expect(family.labels("GET", "200").value == 3)
    }

    @Test func existingSeriesAreReturnedNotRecreated() throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Gauge.self, name: "queue_depth", help: "Depth.", labelNames: ["queue"])
        #expect(family.labels("a") === family.labels("a"))
        #expect(family.labels("a") !== family.labels("b"))
    }

    @Test func wrongLabelArityOrUnknownNamesGoToOverflowInsteadOfCrashing() throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "jobs_total", help: "Jobs.", labelNames: ["queue"])
        family.labels("a", "extra").increment()
        family.labels([("nope", "x")]).increment()
        #expect(family.labels(["__overflow__"]).value == 0, "an explicit __overflow__ value is an ordinary series")
        let text = registry.renderString()
        #expect(text.contains("jobs_total{queue=\"__overflow__\"} 0"))
        #expect(text.contains("tally_metrics_overflow_total{metric=\"jobs\"} 2"))
    }

    @Test func missingLabelsTakeTheEmptyValue() throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "hits_total", help: "Hits.", labelNames: ["a", "b"])
        family.labels([("b", "x")]).increment()
        #expect(registry.renderString().contains("hits_total{a=\"\",b=\"x\"} 1"))
    }

    @Test func removedSeriesDisappearFromTheExposition() throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "conn_total", help: "Connections.", labelNames: ["peer"])
        for peer in ["a", "b", "c"] { family.labels(peer).increment() }
        #expect(family.remove(["b"]))
        #expect(!family.remove(["b"]))
        #expect(family.seriesCount == 2)
        let text = registry.renderString()
        #expect(text.contains("peer=\"a\"") && text.contains("peer=\"c\"") && !text.contains("peer=\"b\""))
    }

    @Test func sixteenThousandSeriesAreAddedAndFoundAgain() throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "big_total", help: "Big.", labelNames: ["id"], maxSeries: 20_000)
        for i in 0..<16_000 { family.labels(String(i)).increment() }
        for i in stride(from: 0, to: 16_000, by: 97) { #expect(family.labels(String(i)).value == 1) }
        #expect(family.seriesCount == 16_000)
    }

    @Test func concurrentLookupsOfNewLabelSetsCreateEachSeriesOnce() async throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Counter.self, name: "race_total", help: "Race.", labelNames: ["k"], maxSeries: 100)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for i in 0..<1_000 { family.labels("k\(i % 150)").increment() } }
            }
        }
        #expect(family.seriesCount == 101)
        let total = ExpositionSamples(registry.render(format: .prometheusText)).values
            .filter { $0.key.hasPrefix("race_total{") }.values.reduce(0, +)
        #expect(total == 8_000)
    }
}
