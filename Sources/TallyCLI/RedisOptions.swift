import ArgumentParser
import TallyRedis

/// The Redis options every command that talks to Redis takes, in one place: the URL, TLS and the
/// lease deadline, each also read from its `TALLY_…` variable.
struct RedisOptions: ParsableArguments {
    @Option(help: "Redis URL: redis://[user:password@]host:port/db, rediss://… (TLS, verified) or unix:///path (TALLY_REDIS).")
    var redis = environment("REDIS") ?? ""

    @Option(help: "Seconds a caller may wait for a Redis connection before it fails fast (TALLY_REDIS_LEASE_TIMEOUT).")
    var redisLeaseTimeout = Double(environment("REDIS_LEASE_TIMEOUT") ?? "") ?? 0.5

    @Option(help: "PEM file of the certificate authorities that sign the Redis server's certificate, for rediss:// (TALLY_REDIS_TLS_CA); the system's roots otherwise.")
    var redisTlsCa = environment("REDIS_TLS_CA")

    @Option(help: "PEM file of the client certificate to present to a Redis server that requires one (TALLY_REDIS_TLS_CERT); needs --redis-tls-key.")
    var redisTlsCert = environment("REDIS_TLS_CERT")

    @Option(help: "PEM file of the client certificate's private key (TALLY_REDIS_TLS_KEY).")
    var redisTlsKey = environment("REDIS_TLS_KEY")

    @Option(help: "Name to verify the Redis server's certificate against instead of the URL's host (TALLY_REDIS_TLS_SERVER_NAME).")
    var redisTlsServerName = environment("REDIS_TLS_SERVER_NAME")

    var isSet: Bool { !redis.isEmpty }

    func validate() throws {
        guard redisLeaseTimeout >= 0.01, redisLeaseTimeout <= 60 else {
            throw ValidationError("--redis-lease-timeout must be 0.01…60 seconds, got \(redisLeaseTimeout)")
        }
        guard (redisTlsCert == nil) == (redisTlsKey == nil) else {
            throw ValidationError("--redis-tls-cert and --redis-tls-key go together")
        }
        if tls != nil {
            guard redis.lowercased().hasPrefix("rediss://") else {
                throw ValidationError("the --redis-tls-… options need a rediss:// URL in --redis")
            }
        }
    }

    /// The TLS options given, if any (a `rediss://` URL without them trusts the system's roots).
    var tls: RedisTLSConfiguration? {
        guard redisTlsCa != nil || redisTlsCert != nil || redisTlsKey != nil || redisTlsServerName != nil else { return nil }
        return RedisTLSConfiguration(caFile: redisTlsCa, certificateFile: redisTlsCert, keyFile: redisTlsKey, serverName: redisTlsServerName)
    }

    /// How to connect, from the URL and the TLS options.
    func connection() throws -> RedisConfiguration {
        try RedisConfiguration(url: redis, tls: tls)
    }

    var leaseTimeout: Duration { .seconds(redisLeaseTimeout) }
}
