import TallyMetrics
import TallyPipeline
import TallyRedis

/// The Redis server as the service sees it, from `INFO memory` and `INFO stats`:
/// `tally_redis_used_memory_bytes`, `tally_redis_maxmemory_bytes` and
/// `tally_redis_evicted_keys_total` (mirrored from the server's own counter).
/// NaN until the first successful read.
public final class RedisServerMetrics: Sendable {
    let usedMemory: Gauge
    let maxMemory: Gauge
    let evictedKeys: MirroredCounter

    public init(registry: MetricsRegistry) throws {
        usedMemory = try registry.register(Gauge.self, name: "tally_redis_used_memory_bytes", help: "Redis INFO memory used_memory.")
        maxMemory = try registry.register(Gauge.self, name: "tally_redis_maxmemory_bytes", help: "Redis maxmemory (0 = no limit).")
        evictedKeys = try registry.register(MirroredCounter.self, name: "tally_redis_evicted_keys_total", help: "Redis INFO stats evicted_keys.")
        usedMemory.set(.nan)
        maxMemory.set(.nan)
    }

    /// Reads `INFO memory` and `INFO stats` and updates the series.
    public func refresh(from client: any RedisClient) async throws {
        let memory = Self.fields(try await client.send(RedisCommand("INFO", "memory")).string ?? "")
        let stats = Self.fields(try await client.send(RedisCommand("INFO", "stats")).string ?? "")
        if let used = memory["used_memory"].flatMap(Double.init) { usedMemory.set(used) }
        if let limit = memory["maxmemory"].flatMap(Double.init) { maxMemory.set(limit) }
        if let evicted = stats["evicted_keys"].flatMap(Double.init) { evictedKeys.set(evicted) }
    }

    /// `name:value` lines of an INFO reply.
    static func fields(_ info: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in info.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { continue }
            result[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return result
    }
}
