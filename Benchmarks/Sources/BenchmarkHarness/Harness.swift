import Foundation
import Synchronization

/// Times closures for every benchmark executable (inlinable, so each timed
/// closure is specialised into its loop as it was when this lived in each executable). Every figure is a median of
/// several runs of a loop inside the closure, so call overhead is amortised.
public enum Harness {
    @inlinable
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Median nanoseconds per operation of `body(iterations)` over `runs` runs.
    @inlinable
    public static func nanosecondsPerOperation(iterations: Int, runs: Int = 7, _ body: (Int) -> Void) -> Double {
        body(min(iterations, 10_000))  // warm-up
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = self.now()
            body(iterations)
            samples.append(Double(self.now() - start) / Double(iterations))
        }
        return samples.sorted()[runs / 2]
    }

    /// Median nanoseconds per operation when `threads` threads each run `body(iterations / threads)` at once.
    @inlinable
    public static func parallelNanosecondsPerOperation(threads: Int, iterations: Int, runs: Int = 5, _ body: @escaping @Sendable (Int) -> Void) -> Double {
        var samples: [Double] = []
        for _ in 0..<runs {
            let group = DispatchGroup()
            let start = self.now()
            for _ in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    body(iterations / threads)
                    group.leave()
                }
            }
            group.wait()
            samples.append(Double(self.now() - start) / Double(iterations))
        }
        return samples.sorted()[runs / 2]
    }

    /// Median milliseconds of one call of `body`.
    @inlinable
    public static func milliseconds(runs: Int = 7, _ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = self.now()
            body()
            samples.append(Double(self.now() - start) / 1e6)
        }
        return samples.sorted()[runs / 2]
    }
}

/// Keeps the optimiser from deleting work whose result is otherwise unused.
@inlinable @inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// An atomic store the optimiser cannot remove, so a pure loop's result must be computed.
@usableFromInline let integerSink = Atomic<UInt64>(0)

@inlinable @inline(never)
public func blackHole(_ value: UInt64) {
    integerSink.store(value, ordering: .relaxed)
}

/// Hides a value from the optimiser.
@inlinable @inline(never)
public func opaque<T>(_ value: T) -> T {
    value
}

/// The seeds' overhead case's unit of work: a dependent multiply chain, so the CPU cannot
/// overlap iterations; callers calibrate `rounds` to the time they want per operation.
@inlinable @inline(never)
public func dependentWork(_ seed: UInt64, rounds: Int) -> UInt64 {
    var x = seed
    for _ in 0..<rounds {
        x = (x ^ (x >> 29)) &* 0xBF58_476D_1CE4_E5B9
    }
    return x
}
