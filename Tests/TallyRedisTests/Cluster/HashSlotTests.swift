import NIOCore
import Testing
@testable import TallyRedis

/// The slot function and key extraction, checked against Redis Cluster's specification.
@Suite struct HashSlotTests {
    @Test func crc16IsXmodemAndSlotsMatchRedis() {
        // The specification's check value, and slots `CLUSTER KEYSLOT` gives for these keys.
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("bar") == 5061)
        #expect(HashSlot.of("") == 0)
    }

    @Test func hashTagsKeepKeysTogether() {
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("{tally}:events") == HashSlot.of("tally"))
        // An empty tag, or none closed, hashes the whole key.
        #expect(HashSlot.of("{}foo") == HashSlot.of("{}foo") && HashSlot.of("{}foo") != HashSlot.of("foo"))
        #expect(HashSlot.of("foo{bar") == Int(HashSlot.crc16(Array("foo{bar".utf8)) % 16384))
        // Only the first tag counts.
        #expect(HashSlot.of("{a}{b}") == HashSlot.of("a"))
    }

    @Test func theKeyFirstShortcutRoutesEachCommandWhereItsKeysDo() throws {
        for word in RedisCommand.keyFirst.sorted() {
            for key in ["{user1000}.following", "plain", "é{}x"] {
                let command = RedisCommand(word, .string(key), "1", "2")
                #expect(command.keys == [key], "\(word)")
                #expect(try command.slot() == HashSlot.of(key), "\(word)")
                var buffer = ByteBuffer()
                buffer.writeString(key)
                #expect(try RedisCommand(word, .bytes(buffer), "1").slot() == HashSlot.of(key), "\(word)")
            }
        }
        // Lower case and commands with other key positions take the general path.
        #expect(try RedisCommand("xadd", "{a}s", "*", "f", "v").slot() == HashSlot.of("a"))
        #expect(throws: RedisError.self) { try RedisCommand("DEL", "a", "b").slot() }
    }

    @Test func commandKeysAreFoundWhereEachCommandHasThem() throws {
        #expect(RedisCommand("GET", "k").keys == ["k"])
        #expect(RedisCommand("PING").keys == nil)
        #expect(RedisCommand("EVALSHA", "abc", "2", "{t}:a", "{t}:b", "arg").keys == ["{t}:a", "{t}:b"])
        #expect(RedisCommand("EVALSHA", "abc", "0", "arg").keys == nil)
        #expect(RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s1", "s2", ">", ">").keys == ["s1", "s2"])
        #expect(RedisCommand("XGROUP", "CREATE", "stream", "g", "0").keys == ["stream"])
        #expect(RedisCommand("MSET", "a", "1", "b", "2").keys == ["a", "b"])
        #expect(RedisCommand("SCRIPT", "LOAD", "return 1").keys == nil)
        #expect(try RedisCommand("EVALSHA", "abc", "2", "{t}:a", "{t}:b").slot() == HashSlot.of("t"))
        #expect(throws: RedisError.crossSlot(command: "MSET", keys: ["a", "b"])) { try RedisCommand("MSET", "a", "1", "b", "2").slot() }
    }
}
