import NIOCore
import Testing
@testable import TallyRedis

private func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

private func decodeAll(_ s: String, limits: RESPLimits = .default) throws -> [RESPFrame] {
    var reader = RESPStreamReader(limits: limits)
    reader.feed(buffer(s))
    var frames: [RESPFrame] = []
    while let f = try reader.next() { frames.append(f) }
    #expect(reader.pendingBytes == 0)
    return frames
}

/// Every RESP3 type with its expected value.
private let samples: [(String, RESPFrame)] = [
    ("+OK\r\n", .reply(.simpleString("OK"))),
    ("-ERR unknown command 'FOO'\r\n", .reply(.error("ERR unknown command 'FOO'"))),
    (":-42\r\n", .reply(.integer(-42))),
    (":9223372036854775807\r\n", .reply(.integer(.max))),
    ("$5\r\nhe\r\no\r\n", .reply(.bulkString(ByteBuffer(string: "he\r\no")))),
    ("$0\r\n\r\n", .reply(.bulkString(ByteBuffer()))),
    ("$-1\r\n", .reply(.null)),
    ("*-1\r\n", .reply(.null)),
    ("_\r\n", .reply(.null)),
    (",3.25\r\n", .reply(.double(3.25))),
    (",-inf\r\n", .reply(.double(-.infinity))),
    (",inf\r\n", .reply(.double(.infinity))),
    ("#t\r\n", .reply(.boolean(true))),
    ("#f\r\n", .reply(.boolean(false))),
    ("(3492890328409238509324850943850943825024385\r\n", .reply(.bigNumber("3492890328409238509324850943850943825024385"))),
    ("!21\r\nSYNTAX invalid syntax\r\n", .reply(.error("SYNTAX invalid syntax"))),
    ("=15\r\ntxt:Some string\r\n", .reply(.verbatimString(format: "txt", ByteBuffer(string: "Some string")))),
    ("*3\r\n:1\r\n$1\r\na\r\n*0\r\n", .reply(.array([.integer(1), .bulkString(ByteBuffer(string: "a")), .array([])]))),
    ("%2\r\n+first\r\n:1\r\n+second\r\n#f\r\n", .reply(.map([
        RESPMapEntry(key: .simpleString("first"), value: .integer(1)),
        RESPMapEntry(key: .simpleString("second"), value: .boolean(false)),
    ]))),
    ("~2\r\n+a\r\n+b\r\n", .reply(.set([.simpleString("a"), .simpleString("b")]))),
    (">3\r\n+invalidate\r\n*1\r\n$3\r\nkey\r\n_\r\n", .push([.simpleString("invalidate"), .array([.bulkString(ByteBuffer(string: "key"))]), .null])),
    ("|1\r\n+ttl\r\n:3600\r\n:7\r\n", .reply(.integer(7))),
    ("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", .reply(.array([.integer(1), .integer(2)]))),
]

@Test func decodesEveryRESP3Type() throws {
    for (wire, expected) in samples {
        #expect(try decodeAll(wire) == [expected], "\(wire.debugDescription)")
    }
}

@Test func decodesNaNDouble() throws {
    let frames = try decodeAll(",nan\r\n")
    guard case .reply(.double(let d)) = frames.first else { Issue.record("not a double"); return }
    #expect(d.isNaN)
}

@Test func decodesEveryValueSplitAtEveryByteBoundary() throws {
    let all = samples.map(\.0).joined()
    let expected = samples.map(\.1)
    let bytes = Array(all.utf8)
    for cut in 0...bytes.count {
        var reader = RESPStreamReader()
        var frames: [RESPFrame] = []
        reader.feed(ByteBuffer(bytes: bytes[..<cut]))
        while let f = try reader.next() { frames.append(f) }
        reader.feed(ByteBuffer(bytes: bytes[cut...]))
        while let f = try reader.next() { frames.append(f) }
        #expect(frames == expected, "cut at \(cut)")
    }
    // And one byte at a time.
    var reader = RESPStreamReader()
    var frames: [RESPFrame] = []
    for b in bytes {
        reader.feed(ByteBuffer(bytes: [b]))
        while let f = try reader.next() { frames.append(f) }
    }
    #expect(frames == expected)
}

@Test func truncatedInputWaitsForMoreAndIsAnErrorAtTheEnd() throws {
    for (wire, _) in samples {
        let bytes = Array(wire.utf8)
        for cut in 0..<bytes.count {
            var reader = RESPStreamReader()
            reader.feed(ByteBuffer(bytes: bytes[..<cut]))
            #expect(try reader.next() == nil, "\(wire.debugDescription) cut at \(cut)")
            if cut > 0 {
                #expect(throws: RESPDecodingError.truncated(pendingBytes: cut)) { try reader.finish() }
            }
        }
    }
}

@Test func malformedInputIsRejectedWithAClearError() {
    let malformed = [
        "?oops\r\n", ":12a\r\n", ":\r\n", ":99999999999999999999\r\n", "$abc\r\n", "$-2\r\n", "*-3\r\n",
        "$3\r\nabcde\r\n", "+OK\rX", "+OK\n", ",1.2.3\r\n", "#x\r\n", "(12x\r\n", "=3\r\nabc\r\n",
        "_x\r\n", "$?\r\n", "*?\r\n", "*1\r\n>1\r\n:1\r\n", "%-1\r\n",
    ]
    for wire in malformed {
        #expect(throws: RESPDecodingError.self, "\(wire.debugDescription)") { _ = try decodeAll(wire) }
    }
}

@Test func errorMessagesNameTheProblemAndOffset() {
    do {
        _ = try decodeAll("+OK\r\n:12a\r\n")
        Issue.record("expected an error")
    } catch let error as RESPDecodingError {
        #expect(error.description.contains("invalid integer '12a'"))
        #expect(error == .invalidInteger("12a", offset: 0))
    } catch {
        Issue.record("unexpected \(error)")
    }
}

@Test func limitsBoundDepthLengthsAndLines() throws {
    let limits = RESPLimits(maxDepth: 4, maxBulkLength: 10, maxAggregateCount: 5, maxLineLength: 16)
    #expect(throws: RESPDecodingError.nestingTooDeep(limit: 4, offset: 16)) { _ = try decodeAll("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", limits: limits) }
    #expect(throws: RESPDecodingError.self) { _ = try decodeAll("$11\r\n", limits: limits) }
    #expect(throws: RESPDecodingError.self) { _ = try decodeAll("*6\r\n", limits: limits) }
    #expect(throws: RESPDecodingError.self) { _ = try decodeAll("+" + String(repeating: "a", count: 40), limits: limits) }
    // A huge declared count with no data does not allocate or hang.
    var reader = RESPStreamReader()
    reader.feed(ByteBuffer(string: "*16000000\r\n:1\r\n"))
    #expect(try reader.next() == nil)
    // Default depth bound stops a deeply nested bomb without overflowing the stack.
    let bomb = String(repeating: "*1\r\n", count: 100_000)
    #expect(throws: RESPDecodingError.self) { _ = try decodeAll(bomb) }
}

/// SplitMix64: a tiny deterministic generator so the fuzz test is reproducible.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Test func randomBytesNeverCrashOrHang() {
    var rng = SeededGenerator(state: 0x7A11_7E57)
    let alphabet = Array("+-:$*%~>|_,#!=(\r\n0123456789-?abc.tf".utf8)
    let wires = samples.map { Array($0.0.utf8) }
    for i in 0..<5_000 {
        var bytes: [UInt8]
        switch i % 3 {
        case 0: // pure noise
            bytes = (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 1: // RESP-shaped noise
            bytes = (0..<Int.random(in: 1...64, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
        default: // a valid frame with a few bytes mutated
            bytes = wires.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = alphabet.randomElement(using: &rng)!
            }
        }
        var reader = RESPStreamReader(limits: RESPLimits(maxDepth: 16, maxBulkLength: 1 << 16, maxAggregateCount: 1 << 16, maxLineLength: 1 << 10))
        reader.feed(ByteBuffer(bytes: bytes))
        var steps = 0
        while steps < 1_000 {
            steps += 1
            guard let frame = try? reader.next() else { break }
            _ = frame
        }
        #expect(steps < 1_000, "decoder made no progress on input \(i)")
    }
}
