import TallyKit
import TallyMetrics
import TallyPipeline
import TallyRedis

/// Tally's own Redis server as the service sees it: the kit's
/// ``RedisInfoMetrics`` under the prefix `tally_redis`
/// (`tally_redis_up`, `tally_redis_used_memory_bytes`,
/// `tally_redis_maxmemory_bytes`, `tally_redis_evicted_keys_total`, …), read by
/// the load monitor. `tally_redis_up` is 0 and the gauges NaN until the first
/// successful read and after a failed one.
package final class RedisServerMetrics: Sendable {
    let info: RedisInfoMetrics

    public init(registry: MetricsRegistry) throws {
        info = try RedisInfoMetrics(registry: registry, prefix: "tally_redis")
    }

    /// Reads `INFO memory stats clients` and updates the series; on failure marks the server down and rethrows.
    public func refresh(from client: any RedisClient) async throws {
        do {
            let reply = try await client.send(RedisCommand("INFO", arguments: RedisInfoMetrics.sections.map { .string($0) }))
            guard let text = reply.string else { throw RedisError.unexpectedReply(command: "INFO", reply: reply.description) }
            info.refresh(info: text)
        } catch {
            info.markDown()
            throw error
        }
    }
}
