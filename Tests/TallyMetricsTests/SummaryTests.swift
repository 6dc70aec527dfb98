import Foundation
import TallyMetrics
import Testing

/// A summary's sketch is recorded per thread: many threads at once lose nothing, and every
/// observation lands in its own bin.
@Suite struct SummaryTests {
    @Test func manyThreadsObservingAtOnceLoseNothing() async throws {
        let summary = Summary(options: SummaryOptions.default)
        let values: [Double] = [0.001, 0.02, 0.5, 0.5, 3, 250, -4, 0]
        let perThread = 50_000
        // More threads than exclusive recording slots, so the shared slot's atomic path is exercised too.
        let threads = 12
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<threads {
                group.addTask {
                    let thread = Thread {
                        for i in 0..<perThread { summary.observe(values[(i &+ t) % values.count]) }
                    }
                    thread.start()
                    while !thread.isFinished { try? await Task.sleep(for: .milliseconds(5)) }
                }
            }
        }
        let sketch = summary.snapshot()
        let total = Double(threads * perThread)
        #expect(sketch.count == total)
        #expect(sketch.zeroCount == total / 8)
        for value in Set(values) where value != 0 {
            let index = LogarithmicMapping.index(of: abs(value))
            let bins = value > 0 ? sketch.positiveBins : sketch.negativeBins
            let share = Double(values.filter { $0 == value }.count) / Double(values.count)
            #expect(bins[index] == total * share, "value \(value)")
        }
        #expect(abs(sketch.sum - total * values.reduce(0, +) / 8) < 1e-6 * total * 300)
        summary.reset()
        #expect(summary.snapshot().count == 0)
    }
}
