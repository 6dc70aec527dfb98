import CoreMetrics
import Foundation
import TallyMetrics

// A small tour of the metrics core: record through Tally's own API and through
// swift-metrics, then print the exposition. `--openmetrics` prints OpenMetrics 1.0.

let registry = MetricsRegistry()
MetricsSystem.bootstrap(TallyMetricsFactory(registry: registry))

do {
    let requests = try registry.registerFamily(
        Counter.self, name: "demo_requests_total", help: "Requests handled, by route and status.", labelNames: ["route", "status"]
    )
    let latency = try registry.register(
        Summary.self, name: "demo_completion_latency_seconds", help: "Completion latency (0.55 % relative error).", options: .default
    )
    let queueDepth = try registry.register(Gauge.self, name: "demo_queue_depth", help: "Items waiting.")

    var random = SystemRandomNumberGenerator()
    for _ in 0..<10_000 {
        let route = ["/v1/events", "/metrics", "/health"].randomElement(using: &random)!
        requests.labels(route, Bool.random(using: &random) ? "200" : "503").increment()
        latency.observe(exp(Double.random(in: -5...0, using: &random)))
    }
    queueDepth.set(42)

    // Any library that speaks swift-metrics reports through the same registry.
    CoreMetrics.Timer(label: "http.server.request.duration", dimensions: [("http.route", "/v1/events")])
        .recordNanoseconds(12_000_000)
    CoreMetrics.Counter(label: "hb.requests").increment()
} catch {
    FileHandle.standardError.write(Data("tally-demo: \(error)\n".utf8))
    exit(1)
}

let format: ExpositionFormat = CommandLine.arguments.contains("--openmetrics") ? .openMetrics : .prometheusText
print(registry.renderString(format: format), terminator: "")
