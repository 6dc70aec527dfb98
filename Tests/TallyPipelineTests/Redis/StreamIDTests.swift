@testable import TallyPipeline
import TallyTesting
import Testing

/// Stream ids are read byte by byte: every form Redis writes is read exactly, anything else is nil.
@Suite struct StreamIDTests {
    @Test func everyIdRedisWritesIsReadExactly() {
        var random = SeededRandom(seed: 7)
        var cases: [(UInt64, UInt64)] = [(0, 0), (1, 0), (0, 1), (.max, .max), (1_800_000_000_000, 42)]
        for _ in 0..<1000 { cases.append((random.next() >> (random.next() % 64), random.next() >> (random.next() % 64))) }
        for (ms, seq) in cases {
            let id = StreamID("\(ms)-\(seq)")
            #expect(id?.ms == ms && id?.seq == seq, "\(ms)-\(seq)")
            #expect(id?.description == "\(ms)-\(seq)")
        }
        // A bare time is sequence 0, as Redis reads it in ranges.
        #expect(StreamID("1700000000000").map { [$0.ms, $0.seq] } == [1_700_000_000_000, 0])
        #expect(StreamID("3-4")! < StreamID("4-0")! && StreamID("4-0")! < StreamID("4-1")!)
    }

    @Test func anythingElseIsNotAnId() {
        for text in ["", "-", "1-", "-1", "1-2-3", "a-1", "1-b", " 1-2", "1-2 ", "+1-2", "1.5-2", "18446744073709551616-0", "0-18446744073709551616"] {
            #expect(StreamID(text) == nil, "\(text)")
        }
    }
}
