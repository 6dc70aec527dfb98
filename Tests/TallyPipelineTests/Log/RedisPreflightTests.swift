import Logging
import TallyPipeline
import TallyRedis
import TallyTesting
import Testing

/// The start-up checks of a Redis server: the decision from what the server reports, and the real
/// path against the installed server (7.x; an older one cannot be run here).
@Suite struct RedisPreflightTests {
    @Test(arguments: [
        ("7.0.0", RedisVersion(major: 7, minor: 0, patch: 0)),
        ("7.2.4", RedisVersion(major: 7, minor: 2, patch: 4)),
        ("6.2.14", RedisVersion(major: 6, minor: 2, patch: 14)),
        ("7.0.0-rc1", RedisVersion(major: 7, minor: 0, patch: 0)),
        (" 8.0 ", RedisVersion(major: 8, minor: 0, patch: 0)),
        ("7", RedisVersion(major: 7, minor: 0, patch: 0)),
        ("255.255.255", RedisVersion(major: 255, minor: 255, patch: 255)),
    ])
    func versionsParse(text: String, version: RedisVersion) {
        #expect(RedisVersion(text) == version)
    }

    @Test func versionsThatAreNotNumbersDoNotParseAndVersionsCompareNumerically() {
        for text in ["", "unknown", "v7.0.0", ".7"] {
            #expect(RedisVersion(text) == nil, "\(text)")
        }
        #expect(RedisVersion("7.10.0")! > RedisVersion("7.9.9")!)
        #expect(RedisVersion("10.0")! > RedisVersion("9.9.9")!)
        #expect(RedisVersion("6.2.99")! < RedisPreflight.minimumVersion)
        #expect(RedisPreflight.minimumVersion.description == "7.0")
    }

    @Test func theDecision() throws {
        func decide(_ version: String?, _ policy: String?, allow: Bool = false) -> Result<[String], RedisPreflight.Refusal> {
            Result { () throws(RedisPreflight.Refusal) in
                try RedisPreflight.evaluate(.init(version: version, evictionPolicy: policy), allowEviction: allow)
            }
        }
        #expect(try decide("7.0.0", "noeviction").get().isEmpty)
        #expect(try decide("7.4.1", "noeviction", allow: true).get().isEmpty)
        #expect(decide("6.2.14", "noeviction") == .failure(.versionTooOld("6.2.14")))
        // The version comes first: an old server is refused even with eviction allowed.
        #expect(decide("6.0.5", "allkeys-lru", allow: true) == .failure(.versionTooOld("6.0.5")))
        #expect(decide(nil, "noeviction") == .failure(.versionUnknown))
        #expect(decide("garbage", "noeviction") == .failure(.versionUnknown))
        // Every policy but noeviction may evict Tally's keys (buckets and locks carry a TTL, so volatile-* too).
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
            #expect(decide("7.2.4", policy) == .failure(.evictionPolicy(policy)))
            let warnings = try decide("7.2.4", policy, allow: true).get()
            #expect(warnings.count == 1 && warnings[0].contains("'\(policy)'"), "\(warnings)")
        }
        // A policy that cannot be read is a warning, not a refusal.
        #expect(try decide("7.2.4", nil).get().count == 1)
    }

    @Test func aRefusalIsOneLineThatSaysWhatToDo() {
        let lines = [
            RedisPreflight.Refusal.versionTooOld("6.2.14").description,
            RedisPreflight.Refusal.versionUnknown.description,
            RedisPreflight.Refusal.evictionPolicy("allkeys-lru").description,
        ]
        for line in lines {
            #expect(!line.contains("\n"))
        }
        #expect(lines[0].contains("Redis 6.2.14 is too old") && lines[0].contains("7.0 or newer"))
        #expect(lines[2].contains("'allkeys-lru'") && lines[2].contains("noeviction") && lines[2].contains("--allow-eviction"))
    }

    @Test func theInstalledServerPassesAndReportsItsVersionAndPolicy() async throws {
        try await withRedisServer { server in
            let connection = try await RedisConnection.connect(server.configuration())
            let found = try await RedisPreflight.check(connection, allowEviction: false, logger: Logger(label: "test"))
            let version = try #require(found.version.flatMap(RedisVersion.init))
            #expect(version >= RedisPreflight.minimumVersion)
            #expect(found.evictionPolicy == "noeviction")
            await connection.close()
        }
    }

    @Test func theInstalledServerWithAnEvictingPolicyIsRefusedUnlessAllowed() async throws {
        try await withRedisServer(extraArguments: ["--maxmemory-policy", "volatile-lru"]) { server in
            let connection = try await RedisConnection.connect(server.configuration())
            await #expect(throws: RedisPreflight.Refusal.evictionPolicy("volatile-lru")) {
                try await RedisPreflight.check(connection, allowEviction: false, logger: Logger(label: "test"))
            }
            let found = try await RedisPreflight.check(connection, allowEviction: true, logger: Logger(label: "test"))
            #expect(found.evictionPolicy == "volatile-lru")
            await connection.close()
        }
    }
}
