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

@Test func writesIntegersAndLengthsAtEveryWidth() {
    for n in [0, 7, 9, 10, 64, 99, 100, 300, 99_999, -1, -9, -10, -99, -100, Int.max, Int.min] {
        let digits = "\(n)", text = String(repeating: "x", count: max(0, min(n, 300)))
        var buffer = ByteBuffer()
        RESPEncoder.encode(RedisCommand(["GET", .integer(n), .string(text)]), into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nGET\r\n$\(digits.utf8.count)\r\n\(digits)\r\n$\(text.utf8.count)\r\n\(text)\r\n")
    }
}

/// The encoder writes each command in one go from sizes it computes first: every kind of argument,
/// empty ones, several doubles and long strings come out byte for byte as RESP spells them.
@Test func encodesEveryArgumentKindByteForByte() {
    var random = SystemRandomNumberGenerator()
    for _ in 0..<200 {
        var arguments: [RedisArgument] = ["XADD"]
        var expected: [String] = ["XADD"]
        for _ in 0..<Int.random(in: 0...12, using: &random) {
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                let s = String(repeating: "é", count: Int.random(in: 0...300, using: &random))
                arguments.append(.string(s)); expected.append(s)
            case 1:
                let i = Int.random(in: Int.min...Int.max, using: &random)
                arguments.append(.integer(i)); expected.append(String(i))
            case 2:
                let d = [Double.infinity, -.infinity, 0.1, -2.5e-300, Double.random(in: -1e20...1e20, using: &random)].randomElement(using: &random)!
                arguments.append(.double(d)); expected.append(d.isInfinite ? (d < 0 ? "-inf" : "+inf") : String(d))
            case 3:
                arguments.append(.string("")); expected.append("")
            default:
                let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8(ascii: "a") + UInt8.random(in: 0..<26, using: &random) }
                arguments.append(.bytes(ByteBuffer(bytes: bytes))); expected.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        var buffer = ByteBuffer(string: "before")
        RESPEncoder.encode(RedisCommand(arguments), into: &buffer)
        let text = "before*\(expected.count)\r\n" + expected.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
        #expect(String(buffer: buffer) == text)
    }
}
