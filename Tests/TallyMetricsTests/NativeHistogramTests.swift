import Foundation
import TallyMetrics
import TallyTesting
import Testing

/// A classic histogram that opts in to native buckets: protobuf scrapers get both, the resolution
/// halved until the bucket bound holds; the text formats keep the classic buckets only.
@Suite struct NativeHistogramTests {
    /// The native bucket of `value` at `schema`, computed with `log2` (independently of the sketch's
    /// table): the bucket `i` with base^(i−1) < value ≤ base^i, base = 2^(2^−schema).
    static func bucket(of value: Double, schema: Int) -> Int {
        Int((log2(value) * pow(2, Double(schema))).rounded(.up))
    }

    static func nativeHistogram(_ registry: MetricsRegistry) async throws -> [String: Any] {
        let decoded = try await ExpositionCheckers.protobufFamilies(registry.render(format: .protobuf))
        #expect(decoded.error == nil, "\(decoded.error ?? "")")
        let metric = try #require((decoded.families.first { $0["name"] as? String == "work_seconds" }?["metrics"] as? [[String: Any]])?.first)
        return try #require(metric["histogram"] as? [String: Any])
    }

    @Test func wideRangesHalveTheResolutionUntilTheBucketBoundHolds() async throws {
        let registry = MetricsRegistry()
        let histogram = try registry.register(Histogram.self, name: "work_seconds", help: "Work.",
                                              options: try HistogramBuckets([0.01, 0.1, 1, 10]).native(maxBuckets: 160))
        // 20,000 values log-uniform over 10^-3 … 10^3: about 1,270 buckets at schema 6, so schema 3 (≤ 160).
        var random = SeededRandom(seed: 3)
        var values: [Double] = []
        for _ in 0..<20_000 { values.append(pow(10, random.unit() * 6 - 3)) }
        values += [0, -0.5, -0.51, -40]
        for value in values { histogram.observe(value) }

        let native = try await Self.nativeHistogram(registry)
        let schema = try #require(native["schema"] as? Int)
        #expect(schema == 3, "schema \(schema)")
        var expected: [String: Int] = [:]
        var expectedNegative: [String: Int] = [:]
        for value in values where value > 0 { expected[String(Self.bucket(of: value, schema: schema)), default: 0] += 1 }
        for value in values where value < 0 { expectedNegative[String(Self.bucket(of: -value, schema: schema)), default: 0] += 1 }
        let buckets = try #require(native["native_buckets"] as? [String: Int])
        #expect(buckets.count <= 160 && buckets.count > 80)
        #expect(buckets == expected)
        #expect(native["negative_native_buckets"] as? [String: Int] == expectedNegative)
        #expect(native["zero_count"] as? Int == 1)
        // Count, sum and the classic buckets are the classic histogram's, as the text says.
        let text = ExpositionSamples(registry.renderString())
        #expect(Double(native["sample_count"] as? Int ?? -1) == text["work_seconds_count"])
        #expect(native["sample_sum"] as? Double == text["work_seconds_sum"])
        let classic = try #require(native["buckets"] as? [[Any]])
        #expect(classic.map { $0[0] as? Double } == [0.01, 0.1, 1, 10])
        #expect(Double(classic[2][1] as? Int ?? -1) == text[#"work_seconds_bucket{le="1.0"}"#])
        // The text formats have no trace of the native buckets.
        #expect(!registry.renderString().contains("schema") && text.lines.filter { $0.hasPrefix("work_seconds_bucket") }.count == 5)
    }

    @Test func aNarrowRangeKeepsFullResolution() async throws {
        let registry = MetricsRegistry()
        let histogram = try registry.register(Histogram.self, name: "work_seconds", help: "Work.", options: try HistogramBuckets([1]).native())
        for value in [0.2, 0.2001, 0.25, 0.3] { histogram.observe(value) }
        let native = try await Self.nativeHistogram(registry)
        #expect(native["schema"] as? Int == 6)
        #expect(native["native_buckets"] as? [String: Int] == [String(Self.bucket(of: 0.2, schema: 6)): 2, String(Self.bucket(of: 0.25, schema: 6)): 1,
                                                                 String(Self.bucket(of: 0.3, schema: 6)): 1])
        histogram.reset()
        let empty = try await Self.nativeHistogram(registry)
        #expect(empty["native_buckets"] as? [String: Int] == [:] || empty["native_buckets"] == nil)
    }

    @Test func nativeIsPartOfTheDefinition() throws {
        #expect(throws: MetricsRegistryError.self) { try HistogramBuckets([1]).native(maxBuckets: 4) }
        #expect(throws: MetricsRegistryError.self) { try HistogramBuckets([1]).native(maxBuckets: 100_000) }
        let registry = MetricsRegistry()
        _ = try registry.family(Histogram.self, name: "h_seconds", help: "", labelNames: [], options: try HistogramBuckets([1]))
        #expect(throws: MetricsRegistryError.self) {
            try registry.family(Histogram.self, name: "h_seconds", help: "", labelNames: [], options: try HistogramBuckets([1]).native())
        }
        // A classic histogram stays classic in protobuf: no schema.
        #expect(try HistogramBuckets([1]).nativeMaxBuckets == nil)
    }
}
