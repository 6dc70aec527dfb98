import ArgumentParser
import CoreMetrics
import Logging
import TallyMetrics
import TallyServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API, in-process workers and /metrics (embedded in-memory backend without --redis)."
    )

    @Option(help: "Address to listen on (TALLY_HOST).")
    var host = environment("HOST") ?? "127.0.0.1"

    @Option(help: "Port to listen on (TALLY_PORT).")
    var port = Int(environment("PORT") ?? "") ?? 8080

    @Option(help: "Redis URL, redis://[user:password@]host:port/db or unix:///path (TALLY_REDIS). Without it the node is not durable.")
    var redis = environment("REDIS") ?? ""

    @Option(help: "In-process worker tasks (TALLY_WORKERS).")
    var workers = Int(environment("WORKERS") ?? "") ?? 2

    @Option(help: "Bearer token required by POST /v1/events (TALLY_TOKEN).")
    var token = environment("TOKEN") ?? ""

    @Option(help: "Largest request body in bytes (TALLY_MAX_BODY_BYTES).")
    var maxBodyBytes = Int(environment("MAX_BODY_BYTES") ?? "") ?? (1 << 20)

    func validate() throws {
        guard (1...65535).contains(self.port) else { throw ValidationError("--port must be 1…65535, got \(self.port)") }
        guard self.workers >= 1 else { throw ValidationError("--workers must be at least 1, got \(self.workers)") }
        guard self.maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024, got \(self.maxBodyBytes)") }
    }

    func run() async throws {
        var configuration = TallyServerConfiguration()
        configuration.host = self.host
        configuration.port = self.port
        configuration.redisURL = self.redis.isEmpty ? nil : self.redis
        configuration.workers = self.workers
        configuration.token = self.token.isEmpty ? nil : self.token
        configuration.maxBodyBytes = self.maxBodyBytes
        if let url = configuration.redisURL {
            try await requireRedis(url)
        }
        let registry = MetricsRegistry()
        MetricsSystem.bootstrap(TallyMetricsFactory(registry: registry))
        let components: TallyNodeComponents
        do {
            components = try TallyNodeComponents(configuration: configuration, registry: registry)
        } catch {
            throw fail("cannot start: \(error)")
        }
        try await TallyNode(components: components).run()
    }
}
