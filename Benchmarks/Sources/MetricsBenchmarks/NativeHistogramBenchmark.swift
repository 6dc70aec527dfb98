import BenchmarkHarness
import CoreMetrics
import Foundation
import ServiceContextModule
import TallyMetrics

/// Native histograms, protobuf and exemplars, in one run (swift-prometheus has none of them, so
/// each is measured against Tally's own alternative):
/// - protobuf render of 1,000 native histograms of 100 populated buckets vs the text render of the
///   same registry as summaries (the choice of a hand-written writer: no message objects to build);
/// - observe into a native histogram vs a summary's sketch (the recording cost it must match, ≤ 5 ns)
///   and a classic histogram;
/// - counter increment: the plain path, with exemplars compiled in and no span active, against
///   the same call through swift-metrics with and without the exemplar lookup.
enum NativeHistogramBenchmark {
    static func run(quick: Bool) {
        do {
            print("")
            print("Native histograms, protobuf and exemplars (release build, medians)")
            try self.render(quick: quick)
            try self.observe(quick: quick)
            try self.counters(quick: quick)
        } catch {
            print("  native histogram benchmark failed: \(error)")
        }
    }

    static func render(quick: Bool) throws {
        let registry = MetricsRegistry()
        let family = try registry.registerFamily(Summary.self, name: "latency_seconds", help: "x", labelNames: ["id"],
                                                 options: SummaryOptions.default, maxSeries: 2_000)
        for i in 0..<1_000 {
            let series = family.labels(String(i))
            // 100 populated buckets: values 1.0115^k spaced about one bin (γ = 2^(1/64) ≈ 1.0109) apart.
            for k in 0..<100 { series.observe(0.01 * pow(1.0115, Double(k))) }
        }
        let runs = quick ? 5 : 21
        let protobuf = Harness.milliseconds(runs: runs) { blackHole(registry.render(format: .protobuf)) }
        let text = Harness.milliseconds(runs: runs) { blackHole(registry.render(format: .prometheusText)) }
        let buckets = registry.render(format: .protobuf).count
        print(String(format: "  render 1,000 sketches of 100 buckets: protobuf (native histograms) %.2f ms, text (summaries) %.2f ms: %.2fx; target protobuf faster: %@ (%d bytes)",
                     protobuf, text, text / protobuf, protobuf < text ? "met" : "NOT met", buckets))
    }

    static func observe(quick: Bool) throws {
        let registry = MetricsRegistry()
        let native = try registry.register(Histogram.self, name: "native_seconds", help: "x", options: HistogramBuckets.defaultSeconds.native())
        let classic = try registry.register(Histogram.self, name: "classic_seconds", help: "x", options: HistogramBuckets.defaultSeconds)
        let summary = try registry.register(Summary.self, name: "summary_seconds", help: "x", options: SummaryOptions.default)
        let values = MetricsCases.values
        let n = (quick ? 2_000_000 : 20_000_000)
        let s = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { summary.observe(values[i & 1023]) } }
        let c = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { classic.observe(values[i & 1023]) } }
        let h = Harness.nanosecondsPerOperation(iterations: n) { for i in 0..<$0 { native.observe(values[i & 1023]) } }
        print(String(format: "  observe: summary (a native histogram in protobuf) %.2f ns, target ≤ 5 ns: %@; histogram with classic and native buckets %.2f ns (classic alone %.2f ns, so the native part adds %.2f ns)",
                     s, s <= 5 ? "met" : "NOT met", h, c, h - c))
    }

    static func counters(quick: Bool) throws {
        let registry = MetricsRegistry()
        let counter = try registry.register(TallyMetrics.Counter.self, name: "ops_total", help: "x")
        let n = quick ? 5_000_000 : 50_000_000
        let direct = Harness.nanosecondsPerOperation(iterations: n) { for _ in 0..<$0 { counter.increment() } }
        let withLookup = TallyMetricsFactory(registry: MetricsRegistry(), exemplars: TallyMetricsFactory.exemplarsFromTraceContext).makeCounter(label: "a", dimensions: [])
        let withoutLookup = TallyMetricsFactory(registry: MetricsRegistry()).makeCounter(label: "a", dimensions: [])
        let m = n / 5
        let looked = Harness.nanosecondsPerOperation(iterations: m) { for _ in 0..<$0 { withLookup.increment(by: 1) } }
        let plain = Harness.nanosecondsPerOperation(iterations: m) { for _ in 0..<$0 { withoutLookup.increment(by: 1) } }
        var context = ServiceContext.topLevel
        context.traceIdentifiers = TraceIdentifiers(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7")
        let traced = ServiceContext.withValue(context) {
            Harness.nanosecondsPerOperation(iterations: m / 10) { for _ in 0..<$0 { withLookup.increment(by: 1) } }
        }
        print(String(format: "  counter increment: direct %.2f ns (exemplar support compiled in, no span); swift-metrics %.2f ns by default (no exemplar lookup), %.2f ns with exemplars on and no span, %.1f ns inside a traced span",
                     direct, plain, looked, traced))
    }
}
