import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TallyTesting

/// A request that carries a W3C `traceparent` leaves its trace as an exemplar on the node's
/// request metrics, and Prometheus (exemplar storage on) returns it from `query_exemplars`.
extension PrometheusScrapeTests {
    @Test func aTracedRequestsExemplarReachesPrometheus() async throws {
        let (serve, base, client) = try await ServeProcessTests.runningServe()
        defer { if serve.isRunning { serve.terminate() } }
        let traceID = "0af7651916cd43dd8448eb211c80319c"
        var request = HTTPClientRequest(url: base + "/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
        request.headers.add(name: "traceparent", value: "00-\(traceID)-b7ad6b7169203331-01")
        request.body = .bytes(ByteBuffer(string: #"{"type":"session_start","session_id":"traced"}"#))
        let response = try await client.execute(request, timeout: .seconds(20))
        #expect(response.status.code == 202)

        // The node's own OpenMetrics exposition shows it; text 0.0.4 does not.
        var openMetricsRequest = HTTPClientRequest(url: base + "/metrics")
        openMetricsRequest.headers.add(name: "Accept", value: "application/openmetrics-text;version=1.0.0")
        let openMetrics = String(buffer: try await client.execute(openMetricsRequest, timeout: .seconds(20)).body.collect(upTo: 1 << 22))
        #expect(openMetrics.contains(#"trace_id="\#(traceID)""#), "\(openMetrics.split(separator: "\n").filter { $0.hasPrefix("hb_") }.joined(separator: "\n"))")
        let (_, text) = try await ServeProcessTests.get(base + "/metrics", client: client)
        #expect(!text.contains(traceID))

        let prometheus = try PrometheusProcess(target: String(base.dropFirst("http://".count)), features: ["exemplar-storage"])
        defer { prometheus.stop() }
        var found: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, found.isEmpty {
            let now = Date().timeIntervalSince1970
            let url = prometheus.base + "/api/v1/query_exemplars?query=%7B__name__%3D~%22hb_.%2A%22%7D&start=\(Int(now - 600))&end=\(Int(now + 60))"
            let (_, body) = try await ServeProcessTests.get(url, client: client)
            let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            for series in (json?["data"] as? [[String: Any]]) ?? [] {
                for exemplar in (series["exemplars"] as? [[String: Any]]) ?? [] {
                    if let labels = exemplar["labels"] as? [String: String], labels["trace_id"] == traceID {
                        found.append((series["seriesLabels"] as? [String: String])?["__name__"] ?? "?")
                    }
                }
            }
            if found.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(!found.isEmpty, "no exemplar with the trace; prometheus log:\n\(prometheus.log.suffix(2000))")

        await prometheus.stopAndWait()
        serve.terminate()
        await serve.exited()
    }
}
