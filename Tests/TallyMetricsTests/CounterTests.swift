import Testing
import TallyMetrics

@Suite struct CounterTests {
    @Test func incrementsAddUpAndNegativeDeltasAreIgnored() {
        let counter = Counter()
        counter.increment()
        counter.increment(by: 41)
        counter.increment(by: -5)
        #expect(counter.value == 42)
        counter.reset()
        #expect(counter.value == 0)
    }

    @Test func manyTasksRecordingAtOnceLoseNoIncrement() async {
        let counter = Counter()
        let floating = FloatingCounter()
        let tasks = 16
        let perTask = 50_000
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    for _ in 0..<perTask {
                        counter.increment()
                        floating.increment(by: 0.5)
                    }
                }
            }
        }
        #expect(counter.value == Int64(tasks * perTask))
        #expect(floating.value == Double(tasks * perTask) * 0.5)
    }

    @Test func manyThreadsRecordingAtOnceLoseNoIncrement() async {
        // Real OS threads, more than the exclusive recording slots, so some
        // threads share a slot and threads exiting hand theirs to others.
        let counter = Counter()
        let histogram = Histogram(options: .defaultSeconds)
        let threads = 24
        let perThread = 40_000
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = ThreadCountdown(threads) { done.resume() }
            for _ in 0..<threads {
                Thread.detachNewThread {
                    for i in 0..<perThread {
                        counter.increment()
                        histogram.observe(Double(i % 4) * 0.01)
                    }
                    remaining.finishOne()
                }
            }
        }
        #expect(counter.value == Int64(threads * perThread))
        let snapshot = histogram.snapshot()
        #expect(snapshot.count == Int64(threads * perThread))
        // 0, 0.01, 0.02, 0.03 a quarter each; ≤ 0.005 holds only the zeros.
        #expect(snapshot.bucketCounts[0] == Int64(threads * perThread / 4))
        #expect(abs(snapshot.sum - Double(threads * perThread / 4) * 0.06) < 1e-6)
    }

    @Test func gaugeSetsAndAddsConcurrently() async {
        let gauge = Gauge()
        gauge.set(10)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<10_000 { gauge.add(1); gauge.subtract(0.5) } }
            }
        }
        #expect(gauge.value == 10 + 8 * 10_000 * 0.5)
    }
}

import Foundation

final class ThreadCountdown: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private let done: @Sendable () -> Void

    init(_ count: Int, done: @escaping @Sendable () -> Void) {
        self.remaining = count
        self.done = done
    }

    func finishOne() {
        self.lock.lock()
        self.remaining -= 1
        let finished = self.remaining == 0
        self.lock.unlock()
        if finished { self.done() }
    }
}
