@testable import TallyPipeline
import TallyRedis
import Testing

@Suite struct ShardLayoutTests {
    @Test func oneShardIsTheSingleLayoutUnderTheTallyTag() throws {
        let layout = try ShardLayout(count: 1)
        #expect(layout.shardKeys == [RedisKeys()])
        #expect(layout.globalKeys.tag == "{tally}")
        #expect(layout.shard(ofSession: "anything") == 0)
    }

    @Test(arguments: [2, 3, 4, 5, 6, 8, 12, 16, 64, 256])
    func everyShardsSlotLiesInTheMiddleOfItsOwnRange(count: Int) throws {
        let layout = try ShardLayout(count: count)
        #expect(Set(layout.shardKeys.map(\.tag)).count == count)
        for (index, keys) in layout.shardKeys.enumerated() {
            let range = layout.targetSlots(ofShard: index)
            let slot = HashSlot.of(keys.events)
            #expect(range.contains(slot), "shard \(index) tag \(keys.tag) slot \(slot) outside \(range)")
            #expect(abs(slot - (range.lowerBound + range.upperBound) / 2) <= max(1, range.count / 8))
            // Every key of a shard shares its slot, and none is the global tag's.
            #expect(HashSlot.of(keys.deadLetters) == slot && HashSlot.of(keys.bucket(1_700_000_000)) == slot)
            #expect(keys.tag != layout.globalKeys.tag)
        }
    }

    @Test func threeShardsLandOnThreeDifferentPrimariesOfADefaultCluster() throws {
        // `redis-cli --cluster create` with 3 primaries gives them 0–5460, 5461–10922 and 10923–16383.
        let primaries = [0...5460, 5461...10922, 10923...16383]
        let layout = try ShardLayout(count: 3)
        let owners = layout.shardKeys.map { keys in primaries.firstIndex { $0.contains(HashSlot.of(keys.events)) } }
        #expect(owners == [0, 1, 2])
        // The naive tags do not spread: two of them on the first primary.
        let naive = (0..<3).map { i in primaries.firstIndex { $0.contains(HashSlot.of("{tally:\(i)}")) } }
        #expect(naive == [0, 0, 1])
    }

    @Test func sessionsSpreadEvenlyAndAlwaysGoToTheSameShard() throws {
        let layout = try ShardLayout(count: 3)
        var counts = [0, 0, 0]
        for i in 0..<30_000 { counts[layout.shard(ofSession: "session-\(i)")] += 1 }
        #expect(counts.allSatisfy { $0 > 9_000 && $0 < 11_000 }, "\(counts)")
        // Stable across layouts built separately (and so across processes: the hash is not seeded).
        let again = try ShardLayout(count: 3)
        #expect((0..<100).allSatisfy { layout.shard(ofSession: "s\($0)") == again.shard(ofSession: "s\($0)") })
        // The hash is FNV-1a 64 (its published test vectors): a change would move live sessions to other shards.
        #expect(ShardLayout.stableHash("") == 0xcbf2_9ce4_8422_2325)
        #expect(ShardLayout.stableHash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(ShardLayout.stableHash("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test func aCountOutOfRangeIsRefusedWithTheAllowedRange() {
        for bad in [0, -1, ShardLayout.maxCount + 1] {
            #expect(throws: InvalidSetting("--shards must be from 1 to \(ShardLayout.maxCount), got \(bad)")) { try ShardLayout(count: bad) }
        }
    }
}
