import Foundation
import Synchronization

/// Median nanoseconds per operation of `body(iterations)` over `runs` runs (after a warm-up).
func nanosecondsPerOperation(iterations: Int, runs: Int = 7, _ body: (Int) -> Void) -> Double {
    body(min(iterations, 10_000))
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = monotonicNanoseconds()
        body(iterations)
        samples.append(Double(monotonicNanoseconds() - start) / Double(iterations))
    }
    return samples.sorted()[runs / 2]
}

/// Median wall nanoseconds per operation when `threads` threads each run `body(iterations / threads)` at once.
func parallelNanosecondsPerOperation(threads: Int, iterations: Int, runs: Int = 5, _ body: @escaping @Sendable (Int) -> Void) -> Double {
    var samples: [Double] = []
    for _ in 0..<runs {
        let group = DispatchGroup()
        let start = monotonicNanoseconds()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                body(iterations / threads)
                group.leave()
            }
        }
        group.wait()
        samples.append(Double(monotonicNanoseconds() - start) / Double(iterations))
    }
    return samples.sorted()[runs / 2]
}

func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// An atomic store the optimiser cannot remove, so a loop's result must be computed.
let sink = Atomic<UInt64>(0)

@inline(never)
func blackHole(_ value: UInt64) {
    sink.store(value, ordering: .relaxed)
}

/// Hides a value from the optimiser.
@inline(never)
func opaque<T>(_ value: T) -> T {
    value
}
