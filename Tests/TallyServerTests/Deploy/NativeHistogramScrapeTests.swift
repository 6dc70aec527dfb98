import AsyncHTTPClient
import Foundation
import Testing
import TallyTesting

/// Prometheus with native histograms enabled asks for protobuf and reads Tally's latency sketch
/// as a native histogram: its count is exact and its quantiles are those of the events.
extension PrometheusScrapeTests {
    @Test func prometheusReadsTheLatencySketchAsANativeHistogram() async throws {
        let (serve, base, client) = try await ServeProcessTests.runningServe()
        defer { if serve.isRunning { serve.terminate() } }

        // 2,000 completions, latencies log-uniform over 1 ms … 22 s (whole milliseconds).
        var random = SeededRandom(seed: 15)
        var latencies: [Double] = []
        var lines: [String] = []
        for i in 0..<2000 {
            let milliseconds = Int(exp(random.unit() * 10).rounded())
            latencies.append(Double(milliseconds) / 1000)
            lines.append(#"{"type":"completion","session_id":"s\#(i % 50)","latency_ms":\#(milliseconds),"accepted":\#(i % 3 == 0)}"#)
        }
        for start in stride(from: 0, to: lines.count, by: 500) {
            #expect(try await NodeTraffic.post(base, lines[start..<(start + 500)].joined(separator: "\n"), client: client) == 202)
        }
        let applied = try await eventually { ServeProcessTests.appliedCounts(try await ServeProcessTests.metricsJSON(base, client: client)) == 2000 }
        #expect(applied)

        let prometheus = try PrometheusProcess(target: String(base.dropFirst("http://".count)), features: ["native-histograms"])
        defer { prometheus.stop() }
        let count = try await prometheus.value("histogram_count(tally_completion_latency_seconds)", client: client) { $0 == 2000 }
        #expect(count == 2000, "prometheus log:\n\(prometheus.log.suffix(3000))")
        let sum = try await prometheus.value("histogram_sum(tally_completion_latency_seconds)", client: client)
        let exactSum = latencies.reduce(0, +)
        #expect(sum.map { abs($0 - exactSum) <= 1e-9 * exactSum } == true, "sum \(String(describing: sum)), events \(exactSum)")

        // Quantiles: PromQL interpolates inside one bucket of schema 6 (1.09 % wide), so within 1.5 % of the events' own.
        let sorted = latencies.sorted()
        for q in [0.5, 0.9, 0.99] {
            let exact = sorted[Int((q * Double(sorted.count)).rounded(.up)) - 1]
            let value = try #require(try await prometheus.value("histogram_quantile(\(q), tally_completion_latency_seconds)", client: client))
            #expect(abs(value - exact) <= 0.015 * exact, "q \(q): prometheus \(value), events \(exact)")
        }
        // It is one series (no quantile labels): a native histogram, not the text format's summary.
        #expect(try await prometheus.value("count(tally_completion_latency_seconds)", client: client) == 1)
        let quantileSeries = try await prometheus.query(#"tally_completion_latency_seconds{quantile!=""}"#, client: client)
        #expect(quantileSeries.status == "success" && quantileSeries.samples.isEmpty)

        await prometheus.stopAndWait()
        serve.terminate()
        await serve.exited()
    }
}
