import TallyRedis

/// How a deployment's events and state are split into shards, each a stream, consumer group,
/// dead-letter stream and state under its own Redis Cluster hash tag.
///
/// One shard is today's single layout: every key under `{tally}`. With `count` > 1, shard `i`'s
/// tag is the first `{<prefix>:<i>-<k>}` (k = 0, 1, …) whose slot lies in the middle eighth of
/// the `i`-th of `count` equal slot ranges, so that shards spread over a cluster whose primaries
/// hold the default, equal ranges (naive `{tally:0}`, `{tally:1}`, `{tally:2}` hash to slots 412,
/// 4541 and 8670: two shards on the first of three primaries). What every shard shares (the
/// settings and shard count, the leader lock, the score and the session figures) stays under
/// `{<prefix>}`. Events go to the shard of their session (``shard(ofSession:)``), so a session's
/// state lives in one shard. The tags depend on `count`: changing it is an offline procedure
/// (`docs/configuration.md`).
public struct ShardLayout: Sendable, Hashable {
    /// Shards, from 1 to ``maxCount``.
    public let count: Int
    /// The keys of everything shared by the shards, under `{prefix}`.
    public let globalKeys: RedisKeys
    /// Each shard's keys, by index.
    public let shardKeys: [RedisKeys]

    /// A bound that keeps every shard's slot range wide enough to aim at (64 slots).
    public static let maxCount = 256

    public init(count: Int = 1, prefix: String = "tally", group: String = "tally-workers") throws(InvalidSetting) {
        guard count >= 1, count <= Self.maxCount else {
            throw InvalidSetting("--shards must be from 1 to \(Self.maxCount), got \(count)")
        }
        self.count = count
        self.globalKeys = RedisKeys(prefix: prefix, group: group)
        self.shardKeys = count == 1
            ? [self.globalKeys]
            : (0..<count).map { RedisKeys(prefix: Self.shardPrefix(prefix, shard: $0, of: count), group: group) }
    }

    /// A one-shard layout.
    public static let single = try! ShardLayout()

    /// The shard that holds `sessionID`'s events and state.
    public func shard(ofSession sessionID: String) -> Int {
        count == 1 ? 0 : Int(Self.stableHash(sessionID) % UInt64(count))
    }

    /// The shard that first records an `Idempotency-Key` (see ``ShardedEventLog``).
    public func shard(ofIdempotencyKey key: String) -> Int {
        count == 1 ? 0 : Int(Self.stableHash("idempotency:" + key) % UInt64(count))
    }

    /// The slot range shard `index` aims at: the `index`-th of `count` equal ranges.
    public func targetSlots(ofShard index: Int) -> Range<Int> {
        (index * HashSlot.count / count)..<((index + 1) * HashSlot.count / count)
    }

    /// The prefix (the tag without braces) of shard `index` of `count`: the first
    /// `<prefix>:<index>-<k>` whose slot is within an eighth of the range's width of its middle.
    static func shardPrefix(_ prefix: String, shard index: Int, of count: Int) -> String {
        let low = index * HashSlot.count / count, high = (index + 1) * HashSlot.count / count
        let middle = (low + high) / 2, tolerance = max(1, (high - low) / 8)
        var best = (distance: Int.max, prefix: "")
        for k in 0..<1_000_000 {
            let candidate = "\(prefix):\(index)-\(k)"
            let distance = abs(HashSlot.of(candidate) - middle)
            if distance < best.distance { best = (distance, candidate) }
            if distance <= tolerance { break }
        }
        return best.prefix
    }

    /// FNV-1a, 64 bits: the same on every node and every run (Swift's `Hasher` is seeded per process).
    static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
