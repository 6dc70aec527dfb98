import Testing
import TallyMetrics

@Suite struct RecentEventRingTests {
    @Test func keepsTheNewestValuesOldestFirst() {
        let ring = RecentEventRing<Int>(capacity: 3)
        #expect(ring.snapshot().isEmpty)
        for value in 1...7 { ring.append(value) }
        #expect(ring.snapshot() == [5, 6, 7])
        #expect(ring.count == 3)
        #expect(ring.totalAppended == 7)
    }

    @Test func concurrentAppendsNeverExceedTheCapacity() async {
        let ring = RecentEventRing<Int>(capacity: 50)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask { for i in 0..<1_000 { ring.append(task * 1_000 + i) } }
            }
        }
        #expect(ring.count == 50)
        #expect(ring.totalAppended == 8_000)
        #expect(Set(ring.snapshot()).count == 50)
    }

    @Test func aCapacityBelowOneKeepsOneValue() {
        let ring = RecentEventRing<String>(capacity: 0)
        ring.append("a")
        ring.append("b")
        #expect(ring.snapshot() == ["b"])
    }
}
