import ArgumentParser
import TallyRedis
import TallyServer

/// The Redis options every command that talks to Redis takes, in one place: the URL, TLS and the
/// lease deadline, each also read from its `TALLY_…` variable.
struct RedisOptions: ParsableArguments {
    @Option(help: "Redis URL: redis://[user:password@]host:port/db, rediss://… (TLS, verified) or unix:///path; for a Redis Cluster one or several comma-separated seed URLs (found by asking the server) (TALLY_REDIS).")
    var redis = environment("REDIS") ?? ""

    @Option(help: "Shards of the log and state, each under its own hash tag so that they spread over a Redis Cluster's primaries; every node of a deployment uses the same count, recorded in Redis by the first (TALLY_SHARDS).")
    var shards = Int(environment("SHARDS") ?? "") ?? 1

    @Option(help: "Seconds a caller may wait for a Redis connection before it fails fast (TALLY_REDIS_LEASE_TIMEOUT).")
    var redisLeaseTimeout = Double(environment("REDIS_LEASE_TIMEOUT") ?? "") ?? 0.5

    @Option(help: "PEM file of the certificate authorities that sign the Redis server's certificate, for rediss:// (TALLY_REDIS_TLS_CA); the system's roots otherwise.")
    var redisTlsCa: String?

    @Option(help: "PEM file of the client certificate to present to a Redis server that requires one (TALLY_REDIS_TLS_CERT); needs --redis-tls-key.")
    var redisTlsCert: String?

    @Option(help: "PEM file of the client certificate's private key (TALLY_REDIS_TLS_KEY).")
    var redisTlsKey: String?

    @Option(help: "Name to verify the Redis server's certificate against instead of the URL's host (TALLY_REDIS_TLS_SERVER_NAME).")
    var redisTlsServerName: String?

    // The flag, else its TALLY_ variable.
    var tlsCA: String? { redisTlsCa ?? environment("REDIS_TLS_CA") }
    var tlsCertificate: String? { redisTlsCert ?? environment("REDIS_TLS_CERT") }
    var tlsKey: String? { redisTlsKey ?? environment("REDIS_TLS_KEY") }
    var tlsServerName: String? { redisTlsServerName ?? environment("REDIS_TLS_SERVER_NAME") }

    var isSet: Bool { !redis.isEmpty }

    func validate() throws {
        var configuration = TallyServerConfiguration()
        try apply(to: &configuration)
        do {
            try configuration.validateRedis()
        } catch {
            throw ValidationError(error.description)
        }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--redis-tls-cert and --redis-tls-key go together")
        }
        if tls != nil {
            guard urls.allSatisfy({ $0.lowercased().hasPrefix("rediss://") }) else {
                throw ValidationError("the --redis-tls-… options need rediss:// URLs in --redis")
            }
        }
    }

    /// The TLS options given, if any (a `rediss://` URL without them trusts the system's roots).
    var tls: RedisTLSConfiguration? {
        guard tlsCA != nil || tlsCertificate != nil || tlsKey != nil || tlsServerName != nil else { return nil }
        return RedisTLSConfiguration(caFile: tlsCA, certificateFile: tlsCertificate, keyFile: tlsKey, serverName: tlsServerName)
    }

    /// The URLs given: one, or a cluster's comma-separated seeds.
    var urls: [String] { redis.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    /// How to connect to each URL, with the TLS options.
    func seeds() throws -> [RedisConfiguration] {
        try urls.map { try RedisConfiguration(url: $0, tls: tls) }
    }

    /// How to connect to the first URL.
    func connection() throws -> RedisConfiguration {
        guard let first = try seeds().first else { throw ValidationError("--redis is empty") }
        return first
    }

    /// Whether the first seed that answers runs a Redis Cluster (`INFO cluster`); throws when none answers.
    func detectCluster() async throws -> Bool {
        var lastError: (any Error)?
        for seed in try seeds() {
            do {
                return try await RedisClusterClient.isCluster(seed)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ValidationError("--redis is empty")
    }

    /// A node configuration with these Redis options (the server asked whether it runs a cluster);
    /// fails with one clear line when no seed answers. `serve`, `worker` and `dlq` all start here.
    func serverConfiguration() async throws -> TallyServerConfiguration {
        var configuration = TallyServerConfiguration()
        try apply(to: &configuration)
        configuration.redisCluster = try await requireRedis(self)
        return configuration
    }

    /// Sets `configuration`'s Redis URL (nil without one), TLS and lease deadline from these
    /// options, without talking to Redis.
    func apply(to configuration: inout TallyServerConfiguration) throws {
        configuration.redisURL = isSet ? redis : nil
        configuration.redisTLS = tls
        configuration.redisLeaseTimeout = try leaseTimeout()
        configuration.shards = shards
    }

    func leaseTimeout() throws -> Duration { try optionDuration(seconds: redisLeaseTimeout, option: "--redis-lease-timeout") }
}
