import Testing
import TallyMetrics

@Suite struct MetricsRegistryTests {
    @Test func aPlainDuplicateRegistrationThrowsNamingTheMetric() throws {
        let registry = MetricsRegistry()
        _ = try registry.register(Counter.self, name: "events_total", help: "Events.")
        #expect {
            _ = try registry.register(Counter.self, name: "events_total", help: "Events.")
        } throws: { error in
            guard case MetricsRegistryError.alreadyRegistered(let metric, _) = error else { return false }
            return metric == "events"
        }
    }

    @Test func aConflictingDefinitionThrowsWithBothDefinitions() throws {
        let registry = MetricsRegistry()
        _ = try registry.family(Histogram.self, name: "latency_seconds", help: "Latency.", labelNames: ["route"], options: .defaultSeconds)
        // Same definition through get-or-create: the same family.
        let again = try registry.family(Histogram.self, name: "latency_seconds", help: "Latency.", labelNames: ["route"], options: .defaultSeconds)
        #expect(again.labelNames == ["route"])
        let conflicts: [(String, () throws -> Void)] = [
            ("type", { _ = try registry.family(Gauge.self, name: "latency_seconds", help: "Latency.", labelNames: ["route"], options: NoOptions()) }),
            ("help", { _ = try registry.family(Histogram.self, name: "latency_seconds", help: "Other.", labelNames: ["route"], options: .defaultSeconds) }),
            ("labels", { _ = try registry.family(Histogram.self, name: "latency_seconds", help: "Latency.", labelNames: ["path"], options: .defaultSeconds) }),
            ("buckets", { _ = try registry.family(Histogram.self, name: "latency_seconds", help: "Latency.", labelNames: ["route"], options: try HistogramBuckets([1, 2])) }),
            ("unit", { _ = try registry.family(Histogram.self, name: "latency_seconds", help: "Latency.", labelNames: ["route"], unit: "seconds", options: .defaultSeconds) }),
        ]
        for (what, register) in conflicts {
            #expect("a different \(what) must conflict", performing: register, throws: { error in
                guard case MetricsRegistryError.conflictingDefinition(let metric, let existing, let requested) = error else { return false }
                return metric == "latency_seconds" && existing != requested && "\(error)".contains("latency_seconds")
            })
        }
    }

    @Test(arguments: [
        ("latency_ms", "_seconds"),
        ("payload_kb", "_bytes"),
        ("cpu_percent", "_ratio"),
        ("9lives", "letters"),
        ("has-dash", "letters"),
        ("__reserved", "reserved"),
        ("requests_count", "reserved for histogram"),
        ("thing_bucket", "reserved for histogram"),
        ("thing_created", "reserved for histogram"),
        ("", "empty"),
    ])
    func invalidNamesAreRefusedWithAClearReason(name: String, reason: String) {
        let registry = MetricsRegistry()
        #expect {
            _ = try registry.register(Gauge.self, name: name, help: "x")
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("'\(name)'")
        }
    }

    @Test func onlyCountersEndWithTotal() {
        let registry = MetricsRegistry()
        #expect(throws: MetricsRegistryError.self) { try registry.register(Gauge.self, name: "sessions_total", help: "x") }
        #expect(throws: Never.self) { try registry.register(Counter.self, name: "sessions_total", help: "x") }
    }

    @Test(arguments: ["le", "quantile", "__name", "bad-label", "1st"])
    func invalidOrReservedLabelNamesAreRefused(label: String) {
        let registry = MetricsRegistry()
        #expect {
            _ = try registry.registerFamily(Counter.self, name: "x_total", help: "x", labelNames: [label])
        } throws: { error in
            guard case MetricsRegistryError.invalidLabelName(let metric, let name, _) = error else { return false }
            return metric == "x_total" && name == label
        }
    }

    @Test func repeatedLabelNamesAreRefused() {
        #expect(throws: MetricsRegistryError.self) {
            try MetricsRegistry().registerFamily(Counter.self, name: "x_total", help: "x", labelNames: ["a", "a"])
        }
    }

    @Test func aUnitMustBeABaseUnitAndEndTheName() {
        let registry = MetricsRegistry()
        #expect(throws: MetricsRegistryError.self) { try registry.register(Gauge.self, name: "size", help: "x", unit: "bytes") }
        #expect(throws: MetricsRegistryError.self) { try registry.register(Gauge.self, name: "size_ms", help: "x", unit: "ms") }
        #expect(throws: Never.self) { try registry.register(Gauge.self, name: "size_bytes", help: "x", unit: "bytes") }
    }

    @Test func sampleNamesOfDifferentMetricsMayNotClash() throws {
        let registry = MetricsRegistry()
        _ = try registry.register(Histogram.self, name: "request_duration_seconds", help: "x", options: .defaultSeconds)
        #expect {
            _ = try registry.register(Gauge.self, name: "request_duration_seconds_bucket", help: "x")
        } throws: { error in
            "\(error)".contains("request_duration_seconds_bucket")
        }
        _ = try registry.register(Gauge.self, name: "jobs", help: "x")
        #expect(throws: MetricsRegistryError.self) { try registry.register(Counter.self, name: "jobs_total", help: "x") }
    }

    @Test func unregisteringFreesTheName() throws {
        let registry = MetricsRegistry()
        let counter = try registry.register(Counter.self, name: "temp_total", help: "x")
        counter.increment()
        #expect(registry.unregister(name: "temp_total"))
        #expect(!registry.renderString().contains("temp_total"))
        _ = try registry.register(Gauge.self, name: "temp", help: "x")
    }

    @Test func invalidSummaryOptionsAndSeriesLimitsAreRefused() {
        #expect(throws: MetricsRegistryError.self) { try SummaryOptions(quantiles: [0.5, 1.5]) }
        #expect(throws: MetricsRegistryError.self) { try SummaryOptions(quantiles: [0.5, 0.5]) }
        #expect(throws: MetricsRegistryError.self) { try SummaryOptions(maxBins: 3) }
        #expect(throws: MetricsRegistryError.self) {
            try MetricsRegistry().registerFamily(Counter.self, name: "x_total", help: "x", labelNames: ["a"], maxSeries: 0)
        }
    }

    @Test func collectHooksRunBeforeEachRender() throws {
        let registry = MetricsRegistry()
        let gauge = try registry.register(Gauge.self, name: "pool_size", help: "x")
        let source = Counter()
        registry.addCollectHook { gauge.set(Double(source.value)) }
        source.increment(by: 7)
        #expect(registry.renderString().contains("pool_size 7.0"))
    }
}
