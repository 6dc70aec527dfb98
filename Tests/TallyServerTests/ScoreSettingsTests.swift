import AsyncHTTPClient
import Foundation
import Testing
import TallyPipeline
import TallyTesting

/// `--score-weights`, `--score-latency-target`, `--score-period` and `--window`: refused with a
/// clear line when they cannot work, and the score follows them when they can.
@Suite struct ScoreSettingsTests {
    @Test func settingsThatCannotWorkAreRefusedNamingTheOption() async throws {
        let cases: [(arguments: [String], says: String)] = [
            (["--window", "7"], "--window must be a multiple of 10"),
            (["--window", "7200"], "--window must be a multiple of 10"),
            (["--score-weights", "acceptance=x"], "--score-weights takes name=weight pairs"),
            (["--score-weights", "speed=1"], "unknown component 'speed'"),
            (["--score-weights", "acceptance=1,acceptance=2"], "names 'acceptance' twice"),
            (["--score-weights", "acceptance=0,tools=0,latency=0"], "not all 0"),
            (["--score-weights", "latency=-1"], "--score-weights takes name=weight pairs"),
            (["--score-latency-target", "0"], "--score-latency-target must be more than 0"),
            (["--score-period", "0.5"], "--score-period must be 1…3600 seconds"),
        ]
        for (arguments, says) in cases {
            let result = try await StartupChecksTests.runTally(["serve", "--port", String(ServeProcessTests.freePort())] + arguments, limit: .seconds(30))
            #expect(result.status != nil && result.status != 0, "\(arguments) did not fail")
            #expect(result.stderr.contains(says), "\(arguments): \(result.stderr)")
        }
        let worker = try await StartupChecksTests.runTally(["worker", "--redis", "redis://127.0.0.1:1", "--window", "15"], limit: .seconds(30))
        #expect(worker.status != nil && worker.status != 0)
        #expect(worker.stderr.contains("--window must be a multiple of 10"), "\(worker.stderr)")
        // The environment is read the same way.
        let environment = try await StartupChecksTests.runTally(["serve", "--port", String(ServeProcessTests.freePort())],
                                                                environment: ["TALLY_SCORE_WEIGHTS": "tools"], limit: .seconds(30))
        #expect(environment.stderr.contains("--score-weights takes name=weight pairs"), "\(environment.stderr)")
    }

    @Test func theScoreFollowsTheConfiguredWeights() async throws {
        // The known events: 15 of 20 completions accepted, 5 of 6 tool calls succeed, p95 latency 0.2 s.
        // The default weights give 100 × (0.5 × 0.75 + 0.3 × 5/6 + 0.2 × 1) = 82.5; acceptance alone gives 75;
        // latency alone with a 0.1 s target gives 100 × 0.1 / p95.
        for (arguments, expected) in [([String](), 82.5), (["--score-weights", "acceptance=1,tools=0,latency=0"], 75.0),
                                      (["--score-weights", "acceptance=0,tools=1,latency=0"], 100.0 * 5 / 6)] {
            let port = ServeProcessTests.freePort()
            let base = "http://127.0.0.1:\(port)"
            let client = HTTPClient.shared
            let serve = try ServeProcessTests.startServe(port: port, arguments: ["--score-period", "1"] + arguments)
            #expect(try await ServeProcessTests.waitUntilUp(base, client: client))
            #expect(try await NodeTraffic.post(base, NodeTraffic.knownEvents, client: client) == 202)
            var score: Double? = nil
            let computed = try await poll(timeout: .seconds(20), every: .milliseconds(100)) {
                let json = try await ServeProcessTests.metricsJSON(base, client: client)
                guard ServeProcessTests.appliedCounts(json) == NodeTraffic.knownAppliedCount else { return false }
                score = json["productivityScore"] as? Double
                return score.map { abs($0 - expected) < 1e-9 } ?? false
            }
            #expect(computed, "\(arguments): score \(String(describing: score)), expected \(expected)")
            serve.terminate()
            await serve.exited()
        }
    }
}
