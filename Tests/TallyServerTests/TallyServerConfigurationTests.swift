import TallyPipeline
import Testing
@testable import TallyServer

@Suite struct TallyServerConfigurationTests {
    @Test func windowAndScoreSettingsAreValidatedWithTheirReason() throws {
        var configuration = TallyServerConfiguration()
        try configuration.validateState()
        configuration.state.windowSeconds = 7
        #expect(throws: InvalidSetting.self) { try configuration.validateState() }
        configuration.state.windowSeconds = 600
        configuration.scorePeriod = .milliseconds(500)
        do {
            try configuration.validateState()
            Issue.record("a 0.5 s score period was accepted")
        } catch {
            #expect(error.description.contains("--score-period"))
        }
        configuration.scorePeriod = .seconds(10)
        configuration.score.latencyWeight = .nan
        #expect(throws: InvalidSetting.self) { try configuration.validateState() }
        configuration.score = ScoreFormula()
        try configuration.score.setWeights("latency=2, tools = 1")
        #expect(configuration.score.latencyWeight == 2 && configuration.score.toolSuccessWeight == 1 && configuration.score.acceptanceWeight == 0.5)
        try configuration.validateState()
    }

    @Test func theStartUpLineShowsNoPartOfAPasswordHoldingAnAtSign() {
        var configuration = TallyServerConfiguration()
        configuration.redisURL = "redis://user:p@ss@w0rd@cache.local:6379/2"
        configuration.token = "t0ken"
        let line = configuration.loggable
        #expect(line.contains("redis=redis://***@cache.local:6379/2"), "\(line)")
        for secret in ["p@ss", "ss@", "w0rd", "user:", "t0ken"] {
            #expect(!line.contains(secret), "\(secret) in \(line)")
        }
    }
}
