import TallyPipeline
import TallyRedis

/// One shard as an operator sees it (`tally shards`): where its keys live and how its log stands.
public struct ShardStatus: Sendable, Codable, Hashable {
    public var index: Int
    /// Its keys' hash tag, e.g. `{tally:1-4}`.
    public var tag: String
    /// The Redis Cluster slot of the tag.
    public var slot: Int
    /// The address of the Redis server that holds it (on a cluster, the slot's primary); nil when
    /// unknown, and `embedded` on the in-memory backend.
    public var node: String?
    public var figures: LogFigures
}

extension PipelineNode {
    /// Each shard's place and log figures, by index (one round of reads per shard).
    public func shardStatuses() async throws -> [ShardStatus] {
        let figures = try await self.log.shardFigures()
        return zip(self.layout.shardKeys, figures).enumerated().map { index, pair in
            let (keys, figures) = pair
            let slot = HashSlot.of(keys.tag)
            let node: String?
            switch self.redis {
            case nil: node = "embedded"
            case let cluster as RedisClusterClient: node = cluster.primary(forSlot: slot)
            default: node = self.configuration.redisURL.map { RedisConfiguration.redacted($0) }
            }
            return ShardStatus(index: index, tag: keys.tag, slot: slot, node: node, figures: figures)
        }
    }
}
