import Logging
import TallyRedis

/// A deployment's shards wired one way, on Redis or in memory: each shard's log, committer and
/// state under its keys, the ``ShardedEventLog`` that routes to them (recording the shard count
/// under the layout's global keys, on Redis), and the state readers use (the one shard's own store,
/// or a ``ShardedStateStore`` merging them).
public struct ShardedBackend: Sendable {
    public let layout: ShardLayout
    /// The log as ingest and operators see it.
    public let log: ShardedEventLog
    /// Each shard's committer, by index.
    public let committers: [any BatchCommitter]
    /// The state, merged over the shards.
    public let store: any StateStore

    /// Each shard's log and committer (those of `indices`, or all), as a ``WorkerPool`` takes them.
    public func workerShards(_ indices: [Int]? = nil) -> [WorkerPool.Shard] {
        (indices ?? Array(0..<layout.count)).map { WorkerPool.Shard(log: log.shards[$0], committer: committers[$0]) }
    }

    /// Every shard on `client`; appends as `durability` asks; `allowEviction` as ``RedisEventLog`` takes it.
    public static func redis(client: any RedisClient, layout: ShardLayout, configuration: StateConfiguration = .default,
                             appendPolicy: AppendPolicy = .default, durability: AppendDurability = .local, allowEviction: Bool = false,
                             logger: Logger = Logger(label: "tally.pipeline.log")) -> ShardedBackend {
        let logs = layout.shardKeys.map {
            RedisEventLog(client: client, keys: $0, configuration: configuration, appendPolicy: appendPolicy, durability: durability,
                          allowEviction: allowEviction, logger: logger)
        }
        let global = RedisEventLog(client: client, keys: layout.globalKeys, configuration: configuration, allowEviction: allowEviction, logger: logger)
        let stores = layout.shardKeys.map { RedisStateStore(client: client, keys: $0, configuration: configuration) }
        return ShardedBackend(
            layout: layout,
            log: ShardedEventLog(layout: layout, shards: logs, recordShardCount: { try await global.recordShardCount($0) }),
            committers: logs.map(\.committer),
            store: layout.count == 1 ? stores[0]
                : ShardedStateStore(shards: stores, global: RedisStateStore(client: client, keys: layout.globalKeys, configuration: configuration)))
    }

    /// Every shard in this process's memory (not durable; nothing to record the count in).
    public static func memory(layout: ShardLayout, configuration: StateConfiguration = .default, appendPolicy: AppendPolicy = .default) -> ShardedBackend {
        let stores = (0..<layout.count).map { _ in MemoryStateStore(configuration: configuration) }
        let logs = stores.map { MemoryEventLog(store: $0, appendPolicy: appendPolicy) }
        return ShardedBackend(
            layout: layout,
            log: ShardedEventLog(layout: layout, shards: logs),
            committers: logs.map(\.committer),
            store: layout.count == 1 ? stores[0] : ShardedStateStore(shards: stores, global: MemoryStateStore(configuration: configuration)))
    }
}
