import Foundation
import TallyMetrics
import TallyTesting
import Testing

/// The protobuf exposition, decoded by an independent decoder (Python's `protobuf` with classes
/// generated from the format's definitions), says what the text formats say, and carries
/// summaries as native histograms whose buckets are the sketch's bins.
@Suite struct ProtobufExpositionTests {
    static func registry() throws -> (MetricsRegistry, Summary) {
        let registry = MetricsRegistry()
        let requests = try registry.registerFamily(TallyMetrics.Counter.self, name: "requests_total", help: "Requests \"served\".\nBy route.", labelNames: ["route", "code"])
        requests.labels("/a", "200").increment(by: 41)
        requests.labels("/b\"x\\y", "500").increment()
        try registry.register(FloatingCounter.self, name: "cost_dollars_total", help: "Dollars.", unit: "dollars").increment(by: 2.5)
        try registry.register(Gauge.self, name: "in_flight", help: "In flight.").set(-3.25)
        let latency = try registry.registerFamily(Histogram.self, name: "latency_seconds", help: "Latency.", labelNames: ["route"],
                                                  options: try HistogramBuckets([0.01, 0.1, 1]))
        for value in [0.005, 0.05, 0.05, 0.5, 5, .nan] { latency.labels("/a").observe(value) }
        let summary = try registry.register(Summary.self, name: "sizes_bytes", help: "Sizes.", options: SummaryOptions.default)
        var random = SeededRandom(seed: 7)
        for _ in 0..<5_000 { summary.observe(exp(random.unit() * 12) - 1) }  // 0 … 160,000, zeros included
        summary.observe(0)
        summary.observe(-2.5)
        return (registry, summary)
    }

    static func family(_ families: [[String: Any]], _ name: String) throws -> [String: Any] {
        try #require(families.first { $0["name"] as? String == name }, "no family \(name) in \(families.map { $0["name"] ?? "?" })")
    }

    static func metrics(_ family: [String: Any]) -> [[String: Any]] { family["metrics"] as? [[String: Any]] ?? [] }

    @Test func everyKindSaysWhatTheTextSays() async throws {
        let (registry, summary) = try Self.registry()
        let decoded = try await ExpositionCheckers.protobufFamilies(registry.render(format: .protobuf))
        #expect(decoded.error == nil, "\(decoded.error ?? "")")
        let families = decoded.families
        let text = ExpositionSamples(registry.renderString(format: .openMetrics))

        // Counters: name with _total, value, labels (escaping is the text formats' business), created.
        let requests = try Self.family(families, "requests_total")
        #expect(requests["type"] as? String == "COUNTER")
        #expect(requests["help"] as? String == "Requests \"served\".\nBy route.")
        let series = Self.metrics(requests)
        #expect(series.count == 2)
        for metric in series {
            let labels = try #require(metric["labels"] as? [String: String])
            let counter = try #require(metric["counter"] as? [String: Any])
            let escapedRoute = labels["route"]!.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            let key = #"requests_total{route="\#(escapedRoute)",code="\#(labels["code"]!)"}"#
            #expect(counter["value"] as? Double == text[key], "\(key)")
            let createdKey = #"requests_created{route="\#(escapedRoute)",code="\#(labels["code"]!)"}"#
            #expect(counter["created"] as? Double == text[createdKey], "\(createdKey)")
        }
        let cost = try Self.family(families, "cost_dollars_total")
        #expect(cost["unit"] as? String == "dollars")
        #expect((Self.metrics(cost).first?["counter"] as? [String: Any])?["value"] as? Double == 2.5)
        let gauge = try Self.family(families, "in_flight")
        #expect(gauge["type"] as? String == "GAUGE")
        #expect((Self.metrics(gauge).first?["gauge"] as? [String: Any])?["value"] as? Double == -3.25)

        // A classic histogram: cumulative counts per finite bound, count (NaN in +Inf) and sum.
        let latency = try Self.family(families, "latency_seconds")
        #expect(latency["type"] as? String == "HISTOGRAM")
        let histogram = try #require(Self.metrics(latency).first?["histogram"] as? [String: Any])
        #expect(histogram["sample_count"] as? Int == Int(text[#"latency_seconds_count{route="/a"}"#] ?? -1))
        #expect((histogram["sample_sum"] as? String) == "NaN")
        let buckets = try #require(histogram["buckets"] as? [[Any]])
        #expect(buckets.count == 3)
        for bucket in buckets {
            let bound = try #require(bucket[0] as? Double)
            let count = try #require(bucket[1] as? Int)
            #expect(Double(count) == text[#"latency_seconds_bucket{route="/a",le="\#(bound)"}"#], "le \(bound)")
        }
        #expect(histogram["schema"] == nil, "a classic histogram has no schema")

        // A summary is a native histogram of schema 6 whose buckets are exactly the sketch's bins.
        let sizes = try Self.family(families, "sizes_bytes")
        #expect(sizes["type"] as? String == "HISTOGRAM")
        let native = try #require(Self.metrics(sizes).first?["histogram"] as? [String: Any])
        let sketch = summary.snapshot()
        #expect(native["schema"] as? Int == 6)
        #expect(native["sample_count"] as? Int == Int(sketch.count))
        #expect(Double(native["sample_count"] as? Int ?? -1) == text["sizes_bytes_count"])
        #expect(native["sample_sum"] as? Double == text["sizes_bytes_sum"])
        #expect(native["zero_count"] as? Int == Int(sketch.zeroCount))
        #expect(native["zero_threshold"] as? Double == QuantileSketch.nativeZeroThreshold)
        #expect(native["created"] as? Double == text["sizes_bytes_created"])
        let positive = try #require(native["native_buckets"] as? [String: Int])
        #expect(positive.count == sketch.positiveBins.count)
        for (index, count) in sketch.positiveBins {
            #expect(positive[String(index)] == Int(count), "bin \(index)")
        }
        let negative = try #require(native["negative_native_buckets"] as? [String: Int])
        #expect(negative == Dictionary(uniqueKeysWithValues: sketch.negativeBins.map { (String($0.key), Int($0.value)) }))
        #expect(sketch.positiveBins.count > 100, "the sketch has \(sketch.positiveBins.count) bins: spans with gaps are exercised")
    }

    @Test func weightedCountsUseTheFloatFields() async throws {
        var sketch = QuantileSketch()
        sketch.add(0.5, weight: 2.5)
        sketch.add(0.5, weight: 1)
        sketch.add(300, weight: 1.25)
        sketch.add(0, weight: 0.5)
        var writer = ProtobufWriter()
        let family = writer.beginDelimited()
        writer.string(1, "weighted_seconds")
        writer.uint64(3, ProtobufMetricType.histogram.rawValue)
        let metric = writer.beginMessage(4)
        writer.nativeHistogram(sketch, createdAt: 1_700_000_000.25)
        writer.endMessage(metric)
        writer.endMessage(family)
        let decoded = try await ExpositionCheckers.protobufFamilies(writer.bytes)
        #expect(decoded.error == nil, "\(decoded.error ?? "")")
        let histogram = try #require(Self.metrics(try Self.family(decoded.families, "weighted_seconds")).first?["histogram"] as? [String: Any])
        #expect(histogram["sample_count_float"] as? Double == 5.25)
        #expect(histogram["sample_count"] == nil)
        #expect(histogram["zero_count_float"] as? Double == 0.5)
        #expect(histogram["positive_counts"] as? [Double] == [3.5, 1.25])
        #expect(histogram["created"] as? Double == 1_700_000_000.25)
        #expect(histogram["native_buckets"] as? [String: Double] == [String(LogarithmicMapping.index(of: 0.5)): 3.5, String(LogarithmicMapping.index(of: 300)): 1.25])
    }

    @Test func anEmptyRegistryAndAnEmptySummaryDecode() async throws {
        #expect(MetricsRegistry().render(format: .protobuf).isEmpty)
        let registry = MetricsRegistry()
        _ = try registry.register(Summary.self, name: "empty_seconds", help: "", options: SummaryOptions.default)
        let decoded = try await ExpositionCheckers.protobufFamilies(registry.render(format: .protobuf))
        #expect(decoded.error == nil, "\(decoded.error ?? "")")
        let histogram = try #require(Self.metrics(try Self.family(decoded.families, "empty_seconds")).first?["histogram"] as? [String: Any])
        #expect(histogram["sample_count"] as? Int == 0)
        #expect(histogram["zero_threshold"] as? Double == QuantileSketch.nativeZeroThreshold)
    }

    @Test func theAcceptHeaderChoosesTheFormat() {
        let prometheusWithNativeHistograms = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        let prometheusDefault = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        let cases: [(String?, ExpositionFormat)] = [
            (prometheusWithNativeHistograms, .protobuf),
            (prometheusDefault, .openMetrics),
            ("text/plain;version=0.0.4", .prometheusText),
            ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,text/plain;q=0.6", .prometheusText),
            ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", .prometheusText),
            ("application/vnd.google.protobuf;proto=other.Message;encoding=delimited", .prometheusText),
            ("application/openmetrics-text;version=2.0.0", .prometheusText),
            ("application/json", .prometheusText),
            ("*/*", .prometheusText),
            ("", .prometheusText),
            (nil, .prometheusText),
            ("application/openmetrics-text; q=0.9, application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; q=0.9", .protobuf),
            ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0", .prometheusText),
        ]
        for (accept, expected) in cases {
            #expect(ExpositionFormat.negotiate(accept: accept) == expected, "\(accept ?? "no header")")
        }
        #expect(ExpositionFormat.protobuf.contentType == "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
    }

    @Test func longMessagesGetMultiByteLengths() async throws {
        // A label value of 300 bytes makes the LabelPair, Metric and MetricFamily lengths take two bytes.
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(TallyMetrics.Counter.self, name: "long_total", help: String(repeating: "h", count: 200), labelNames: ["v"])
        family.labels(String(repeating: "é", count: 150)).increment(by: 7)
        let decoded = try await ExpositionCheckers.protobufFamilies(registry.render(format: .protobuf))
        #expect(decoded.error == nil, "\(decoded.error ?? "")")
        let metric = try #require(Self.metrics(try Self.family(decoded.families, "long_total")).first)
        #expect((metric["labels"] as? [String: String])?["v"] == String(repeating: "é", count: 150))
        #expect((metric["counter"] as? [String: Any])?["value"] as? Double == 7)
    }
}
