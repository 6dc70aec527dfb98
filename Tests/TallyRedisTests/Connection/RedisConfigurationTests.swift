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

@Test func rejectsTLSWithATypedError() {
    #expect(throws: RedisError.tlsNotSupported(url: "rediss://:***@host:6380")) {
        _ = try RedisConfiguration(url: "rediss://:secret@host:6380")
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
