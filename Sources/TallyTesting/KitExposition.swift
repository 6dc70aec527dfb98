import TallyKit
import TallyMetrics

/// The instrumentation kit's whole exposition, for tests that check names against it
/// (the kit's contract tests, the dashboards' expressions).
public enum KitExposition {
    /// A registry with one instance of every kit type, each with some values recorded.
    public static func populatedRegistry() throws -> MetricsRegistry {
        let registry = MetricsRegistry()
        let pool = try DatabasePoolMetrics(registry: registry, pool: "main", maxConnections: 10)
        pool.setConnections(active: 3, idle: 7, waiting: 1)
        pool.recordAcquire(.milliseconds(2))
        pool.recordAcquireTimeout()
        let queries = try DatabaseQueryMetrics(registry: registry, pool: "main", queryTypes: ["select", "insert"])
        queries.record("select", seconds: 0.003)
        queries.record("insert", seconds: 0.01, failed: true)
        let cache = try CacheMetrics(registry: registry, cache: "sessions")
        cache.recordGet(hit: true, duration: .microseconds(300))
        cache.recordSet()
        let llm = try LLMMetrics(registry: registry, endpoints: ["/v1/generate"],
                                 prices: LLMPriceTable(["small": .init(inputPerMillionTokens: 0.5, outputPerMillionTokens: 1.5)]))
        llm.recordCall(endpoint: "/v1/generate", model: "small", inputTokens: 1000, outputTokens: 200, duration: .milliseconds(800))
        llm.recordCall(endpoint: "/v1/generate", model: "unknown", inputTokens: 10, outputTokens: 2)
        let socket = try WebSocketMetrics(registry: registry, maxMessageBytes: 1000)
        socket.recordConnection()
        socket.recordMessageSent(bytes: 120)
        socket.recordMessageSent(bytes: 5000)
        socket.recordMessageQueued()
        socket.recordMessageFailed(reason: "timeout")
        socket.recordRetryAttempt()
        socket.recordRetryOutcome(delivered: true)
        socket.recordDeliveryLatency(.milliseconds(40), path: .direct)
        socket.recordDeliveryLatency(seconds: 3, path: .retried)
        socket.recordError(kind: "protocol")
        socket.recordCircuitBreakerOpened()
        socket.recordDisconnection(reason: "going_away")
        try MessageSearchMetrics(registry: registry).recordSearch(success: false)
        let limiter = try RateLimitMetrics(registry: registry, limiter: "messages")
        limiter.recordHit()
        limiter.setLimitedClients(4)
        let queue = try QueueMetrics(registry: registry, queue: "jobs")
        queue.recordEnqueued(3)
        queue.recordConsumed(2)
        queue.recordWait(seconds: 0.2)
        queue.setDepth(1, oldestAgeSeconds: 0.5)
        try BoundedBuffer<Int>(name: "events", capacity: 10, registry: registry) { _ in }.append(1)
        try RedisInfoMetrics(registry: registry).refresh(info: sampleRedisInfo)
        try ProcessMetrics.register(in: registry)
        try BuildInfo.register(in: registry, name: "app_build_info", labels: [("version", "1.0.0"), ("revision", "abc123")])
        return registry
    }

    /// Every sample name (`name` without labels) the kit exports, histogram `_bucket`, `_count`, `_sum` included.
    public static func sampleNames() throws -> Set<String> {
        Set(ExpositionSamples(try populatedRegistry().renderString()).values.keys.map { String($0.prefix { $0 != "{" }) })
    }

    /// An `INFO memory stats clients` reply as Redis 7 writes it (abridged).
    public static let sampleRedisInfo = """
    # Memory\r
    used_memory:1048576\r
    maxmemory:4194304\r
    \r
    # Stats\r
    total_commands_processed:420\r
    evicted_keys:3\r
    keyspace_hits:90\r
    keyspace_misses:10\r
    \r
    # Clients\r
    connected_clients:5\r
    blocked_clients:1\r
    """
}
