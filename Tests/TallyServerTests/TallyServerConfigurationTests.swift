import Testing
@testable import TallyServer

@Suite struct TallyServerConfigurationTests {
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
