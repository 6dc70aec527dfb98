import CoreMetrics
import Foundation
import ServiceContextModule
import TallyMetrics
import TallyTesting
import Testing

/// Exemplars: the latest per counter and per histogram bucket, in OpenMetrics and protobuf only,
/// and from the current trace on the swift-metrics path.
@Suite struct ExemplarTests {
    static let trace = TraceIdentifiers(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7")!

    @Test func aCounterKeepsItsLatestExemplarInOpenMetricsAndProtobufOnly() async throws {
        let registry = MetricsRegistry()
        let counter = try registry.register(TallyMetrics.Counter.self, name: "jobs_total", help: "Jobs.")
        counter.increment(by: 5)
        counter.increment(by: 2, exemplar: try Exemplar(labels: [("trace_id", "old")], timestamp: 1_700_000_000))
        counter.increment(by: 3, exemplar: try Exemplar(labels: [("trace_id", "new"), ("user_tier", "free")], timestamp: 1_700_000_001.5))
        counter.increment()  // without: the exemplar stays
        #expect(counter.value == 11)
        #expect(counter.exemplar?.value == 3)

        let openMetrics = registry.renderString(format: .openMetrics)
        #expect(openMetrics.contains(#"jobs_total 11 # {trace_id="new",user_tier="free"} 3.0 1700000001.5"#), "\(openMetrics)")
        let parsed = try await ExpositionCheckers.openMetricsSamples(registry.render(format: .openMetrics))
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(!registry.renderString(format: .prometheusText).contains("#  {") && !registry.renderString(format: .prometheusText).contains("trace_id"))

        let decoded = try await ExpositionCheckers.protobufFamilies(registry.render(format: .protobuf))
        #expect(decoded.error == nil, "\(decoded.error ?? "")")
        let family = try #require(decoded.families.first { $0["name"] as? String == "jobs_total" })
        let metric = try #require((family["metrics"] as? [[String: Any]])?.first)
        let exemplar = try #require((metric["counter"] as? [String: Any])?["exemplar"] as? [String: Any])
        #expect(exemplar["labels"] as? [String: String] == ["trace_id": "new", "user_tier": "free"])
        #expect(exemplar["value"] as? Double == 3)
        #expect(exemplar["timestamp"] as? Double == 1_700_000_001.5)
    }

    @Test func aHistogramKeepsOneExemplarPerBucketTheLatest() async throws {
        let registry = MetricsRegistry()
        let histogram = try registry.register(Histogram.self, name: "wait_seconds", help: "Wait.", options: try HistogramBuckets([0.1, 1]))
        histogram.observe(0.05, exemplar: try Exemplar(labels: [("trace_id", "a")], timestamp: 10))
        histogram.observe(0.07, exemplar: try Exemplar(labels: [("trace_id", "b")], timestamp: 11))
        histogram.observe(0.5)
        histogram.observe(30, exemplar: try Exemplar(labels: [("trace_id", "c")], timestamp: 12))
        #expect(histogram.exemplars.map(\.upperBound) == [0.1, .infinity])
        #expect(histogram.exemplars.map(\.value) == [0.07, 30])

        let openMetrics = registry.renderString(format: .openMetrics)
        #expect(openMetrics.contains(#"wait_seconds_bucket{le="0.1"} 2 # {trace_id="b"} 0.07 11.0"#), "\(openMetrics)")
        #expect(openMetrics.contains(#"wait_seconds_bucket{le="1.0"} 3"# + "\n"))
        #expect(openMetrics.contains(#"wait_seconds_bucket{le="+Inf"} 4 # {trace_id="c"} 30.0 12.0"#))
        let parsed = try await ExpositionCheckers.openMetricsSamples(registry.render(format: .openMetrics))
        #expect(parsed.error == nil, "\(parsed.error ?? "")")

        let decoded = try await ExpositionCheckers.protobufFamilies(registry.render(format: .protobuf))
        #expect(decoded.error == nil, "\(decoded.error ?? "")")
        let metric = try #require((decoded.families.first?["metrics"] as? [[String: Any]])?.first)
        let buckets = try #require((metric["histogram"] as? [String: Any])?["buckets"] as? [[Any]])
        #expect(buckets.count == 3, "the finite bounds, and +Inf for its exemplar")
        #expect((buckets[0][2] as? [String: Any])?["labels"] as? [String: String] == ["trace_id": "b"])
        #expect(buckets[1][2] is NSNull)
        #expect(buckets[2][0] as? String == "+Inf" && buckets[2][1] as? Int == 4)
        #expect((buckets[2][2] as? [String: Any])?["value"] as? Double == 30)
    }

    @Test func badExemplarsAreRefusedWithAReason() {
        #expect(throws: ExemplarError.invalidLabelName("trace-id")) { try Exemplar(labels: [("trace-id", "x")]) }
        #expect(throws: ExemplarError.invalidLabelName("")) { try Exemplar(labels: [("", "x")]) }
        #expect(throws: ExemplarError.labelsTooLong(characters: 137)) { try Exemplar(labels: [("trace_id", String(repeating: "a", count: 129))]) }
        #expect((try? Exemplar(labels: [("trace_id", String(repeating: "a", count: 120))])) != nil)
        #expect(throws: ExemplarError.self) { try Exemplar(labels: [], value: .nan) }
        #expect(throws: ExemplarError.self) { try Exemplar(labels: [], timestamp: .infinity) }
        #expect(ExemplarError.labelsTooLong(characters: 137).description.contains("128"))
    }

    @Test func traceparentHeadersAreReadStrictly() {
        let valid = TraceIdentifiers(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(valid == Self.trace)
        #expect(TraceIdentifiers(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future") == Self.trace)
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has exactly four fields
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff is invalid
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero span id
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "", "garbage", String(repeating: "0", count: 600),
        ] {
            #expect(TraceIdentifiers(traceparent: bad) == nil, "\(bad)")
        }
    }

    @Test func theSwiftMetricsPathTakesTheExemplarFromTheCurrentTrace() throws {
        let registry = MetricsRegistry()
        let factory = TallyMetricsFactory(registry: registry, exemplars: TallyMetricsFactory.exemplarsFromTraceContext)
        let counter = factory.makeCounter(label: "requests", dimensions: [("route", "/a")])
        let timer = factory.makeTimer(label: "request_duration", dimensions: [])
        counter.increment(by: 1)  // no trace: no exemplar
        #expect(!registry.renderString(format: .openMetrics).contains("trace_id"))
        var context = ServiceContext.topLevel
        context.traceIdentifiers = Self.trace
        ServiceContext.withValue(context) {
            counter.increment(by: 2)
            timer.recordNanoseconds(250_000_000)
        }
        let openMetrics = registry.renderString(format: .openMetrics)
        #expect(openMetrics.contains(#"requests_total{route="/a"} 3 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 2.0"#), "\(openMetrics)")
        #expect(openMetrics.contains(#"request_duration_seconds_bucket{le="0.25"} 1 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736""#), "\(openMetrics)")
        // Destroying the handler removes the series it wraps.
        factory.destroyCounter(counter)
        #expect(!registry.renderString().contains("requests_total"))
        // Without exemplars (the default), the handlers are the series themselves.
        let plain = TallyMetricsFactory(registry: MetricsRegistry()).makeCounter(label: "x", dimensions: [])
        #expect(plain is TallyMetrics.Counter)
    }
}
