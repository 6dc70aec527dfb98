import Testing
@testable import TallyRedis

@Test func parsesTCPURLWithUserPasswordAndDatabase() throws {
    let c = try RedisConfiguration(url: "redis://alice:p%40ss@cache.local:6380/3")
    #expect(c.endpoint == .tcp(host: "cache.local", port: 6380))
    #expect(c.username == "alice")
    #expect(c.password == "p@ss")
    #expect(c.database == 3)
}

@Test func parsesPasswordOnlyDefaultPortAndIPv6() throws {
    let c = try RedisConfiguration(url: "redis://:secret@127.0.0.1")
    #expect(c.endpoint == .tcp(host: "127.0.0.1", port: 6379))
    #expect(c.username == nil)
    #expect(c.password == "secret")
    #expect(try RedisConfiguration(url: "redis://[::1]:7000").endpoint == .tcp(host: "::1", port: 7000))
}

@Test func parsesUnixSocketURLWithQuery() throws {
    let c = try RedisConfiguration(url: "unix:///tmp/r.sock?db=2&password=pw&name=worker-1")
    #expect(c.endpoint == .unixSocket(path: "/tmp/r.sock"))
    #expect(c.database == 2)
    #expect(c.password == "pw")
    #expect(c.clientName == "worker-1")
}

@Test func redissMeansTLSWithVerificationOnAndTLSOptionsNeedIt() throws {
    let c = try RedisConfiguration(url: "rediss://:secret@host:6380/2")
    #expect(c.endpoint == .tcp(host: "host", port: 6380))
    #expect(c.password == "secret" && c.database == 2)
    #expect(c.tls == RedisTLSConfiguration())
    #expect(c.tls?.verification == .full && c.tls?.caFile == nil)
    let options = RedisTLSConfiguration(caFile: "/ca.pem", serverName: "redis.internal")
    #expect(try RedisConfiguration(url: "rediss://host", tls: options).tls == options)
    #expect(try RedisConfiguration(url: "redis://host").tls == nil)
    // TLS options with a plain URL are refused, not ignored.
    for url in ["redis://:secret@host:6380", "unix:///tmp/r.sock"] {
        #expect(throws: RedisError.self) { _ = try RedisConfiguration(url: url, tls: options) }
    }
}

@Test func rejectsMalformedURLsWithoutLeakingThePassword() {
    for url in ["localhost:6379", "http://x", "redis://h:99999", "redis://:pw@h/abc", "unix://", "redis://"] {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch let error as RedisError {
            guard case .invalidURL(let shown, _) = error else { Issue.record("\(error)"); continue }
            #expect(!shown.contains("pw"))
        } catch {
            Issue.record("\(error)")
        }
    }
}

@Test func aPasswordHoldingAtSignsOrSlashesIsReadWhole() throws {
    let c = try RedisConfiguration(url: "redis://alice:p@ss@w/rd@cache.local:6380/3")
    #expect(c.username == "alice")
    #expect(c.password == "p@ss@w/rd")
    #expect(c.endpoint == .tcp(host: "cache.local", port: 6380))
    #expect(c.database == 3)
    #expect(try RedisConfiguration(url: "redis://p@ss@host").password == "p@ss")
}

@Test(arguments: [
    ("redis://u:p@ss@host", "redis://***@host"),
    ("redis://:p@ss@w0rd@host:6379/0", "redis://***@host:6379/0"),
    ("redis://p@ss@host", "redis://***@host"),
    ("redis://u:p/ss@host/1", "redis://***@host/1"),
    ("rediss://:secret@host:6380", "rediss://***@host:6380"),
    ("unix:///tmp/r.sock?db=2&password=p@ss&name=w", "unix:///tmp/r.sock?db=2&password=***&name=w"),
    ("redis://u:a@b@host?password=c@d&password=e", "redis://***@host?password=***&password=***"),
    ("redis://host:6379/2", "redis://host:6379/2"),
    ("unix:///tmp/r.sock", "unix:///tmp/r.sock"),
])
func urlsAreRedactedAtTheirLastAtSign(url: String, shown: String) {
    #expect(RedisConfiguration.redacted(url) == shown)
}

@Test func errorsNeverShowAPasswordThatHoldsAnAtSignOrASlash() {
    for url in ["redis://u:p@ss@h:99999", "redis://u:p@ss@h/abc", "redis://u:p/ss@h/abc", "redis://u:p/ss@h:x", "rediss://u:p@ss@h:99999"] {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch {
            let text = "\(error)"
            #expect(!text.contains("p@") && !text.contains("ss@") && !text.contains("p/") && !text.contains("u:"), "\(url): \(text)")
        }
    }
}
