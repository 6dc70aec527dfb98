import NIOCore
import Testing
@testable import TallyRedis

@Test func encodesCommandsAsArraysOfBulkStrings() {
    var buffer = ByteBuffer()
    RESPEncoder.encode(RedisCommand("SET", "k€y", .integer(-1234567890), .double(1.5), .bytes(ByteBuffer(bytes: [0, 13, 10]))), into: &buffer)
    #expect(String(buffer: buffer) == "*5\r\n$3\r\nSET\r\n$5\r\nk€y\r\n$11\r\n-1234567890\r\n$3\r\n1.5\r\n$3\r\n\0\r\n\r\n")
}

@Test func commandNameIncludesSubcommandOfContainers() {
    #expect(RedisCommand("xinfo", "groups", "s").name == "XINFO GROUPS")
    #expect(RedisCommand("get", "k").name == "GET")
}

@Test func sha1MatchesKnownDigests() {
    #expect(SHA1.hexDigest("".utf8) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    #expect(SHA1.hexDigest("return 1".utf8) == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    #expect(SHA1.hexDigest(String(repeating: "a", count: 1000).utf8) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
}

@Test func writesDecimalsWithoutAllocating() {
    for n in [0, 7, 9, 10, 64, 300, 99_999, -1, -10, Int.max, Int.min] {
        var buffer = ByteBuffer()
        RESPEncoder.writeDecimal(n, into: &buffer)
        #expect(String(buffer: buffer) == "\(n)\r\n")
    }
}
