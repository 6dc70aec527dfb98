import AsyncHTTPClient
import Foundation
import Testing
import TallyServer
import TallyTesting

/// `GET /`: the status page, rendered by headless Chromium against a real `tally serve`.
@Suite struct StatusPageTests {
    static func chromium() throws -> String {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            if let path = ExternalTool.locate(name) { return path }
        }
        throw ExternalTool.Failure.notInstalled("chromium", hint: "apt-get install chromium (scripts/test does)")
    }

    @Test func thePageIsSelfContained() {
        let html = StatusPage.html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for external in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "@import", "url(", "<script src", "<link rel=\"stylesheet\""] {
            #expect(!html.contains(external), "the page loads something external: \(external)")
        }
        #expect(!html.contains("innerHTML"), "client strings must be written as text")
        #expect(StatusPage.contentSecurityPolicy.contains("default-src 'none'"))
    }

    @Test func chromiumRendersLiveNumbersWithoutConsoleErrors() async throws {
        let chromium = try Self.chromium()
        let (serve, base, client) = try await ServeProcessTests.runningServe()
        defer { if serve.isRunning { serve.terminate() } }
        #expect(try await NodeTraffic.post(base, NodeTraffic.knownEvents, client: client) == 202)
        let applied = try await eventually { ServeProcessTests.appliedCounts(try await ServeProcessTests.metricsJSON(base, client: client)) == NodeTraffic.knownAppliedCount }
        #expect(applied)
        // The session figures are the leader's, stored every few seconds: wait for the round that saw both sessions.
        let sessionsCounted = try await eventually(seconds: 30) { try await ServeProcessTests.metricsJSON(base, client: client)["activeSessions"] as? Int == 2 }
        #expect(sessionsCounted)

        let (status, page) = try await ServeProcessTests.get(base + "/", client: client)
        #expect(status == 200)
        #expect(page == StatusPage.html)

        // Virtual time: the page polls every 2 s, so 5 s of it give three readings (and a throughput).
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("tally-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let result = try await ExternalTool.run("/usr/bin/timeout", [
            "90", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", base + "/",
        ])
        #expect(result.status == 0, "chromium exited \(result.status): \(result.stderr.suffix(2000))")
        let dom = result.stdout
        let consoleLines = result.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        #expect(consoleLines.isEmpty, "console output: \(consoleLines)")

        // The known events: 20 completions of which 15 accepted, 30 events ingested and processed by this node.
        #expect(dom.contains(#"id="state" class="ok">live<"#), "\(dom.prefix(3000))")
        #expect(dom.contains(#"id="acceptance-ratio" data-value="0.75">75.00 %<"#))
        #expect(dom.contains(#"id="completions">20<"#))
        #expect(dom.contains(#"id="events-ingested">30<"#))
        #expect(dom.contains(#"id="events-processed">30<"#))
        #expect(dom.contains(#"id="sessions-active">2<"#))
        #expect(dom.contains(#"id="log-dead-letters">0<"#))
        #expect(dom.contains(#"id="tool-calls-failure">1<"#))
        #expect(dom.contains(#"id="throughput-processed">0.00<"#), "a second reading gives a throughput")
        // p50 of 10…200 ms is 100 ms (rank floor(0.5 × 19) = 9 → 0.1 s, within the sketch's error).
        let json = try await ServeProcessTests.metricsJSON(base, client: client)
        let p50 = ((json["completionLatencySeconds"] as? [String: Any])?["p50"] as? Double) ?? -1
        #expect(dom.contains(#"id="latency-p50">\#(String(format: "%.1f", p50 * 1000)) ms<"#), "p50 \(p50)")
        // Charts drew their lines; the tool name with markup is text, not an element.
        for series in ["p50", "p90", "p99", "acceptance", "lag", "processed"] {
            #expect(dom.contains(#"data-series="\#(series)""#), "no line for \(series)")
        }
        #expect(dom.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(!dom.contains("<img"))

        serve.terminate()
        await serve.exited()
    }
}
