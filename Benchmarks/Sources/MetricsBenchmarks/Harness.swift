import Foundation
import Synchronization

/// Times closures and prints side-by-side tables. Every figure is a median of
/// several runs of a loop inside the closure, so call overhead is amortised.
enum Harness {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Median nanoseconds per operation of `body(iterations)` over `runs` runs.
    static func nanosecondsPerOperation(iterations: Int, runs: Int = 7, _ body: (Int) -> Void) -> Double {
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
    static func parallelNanosecondsPerOperation(threads: Int, iterations: Int, runs: Int = 5, _ body: @escaping @Sendable (Int) -> Void) -> Double {
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
    static func milliseconds(runs: Int = 7, _ body: () -> Void) -> Double {
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

/// One line of the comparison table.
struct Comparison {
    let name: String
    let unit: String
    let tally: Double
    let peer: Double
    /// How many times faster Tally must be (1.0: not slower).
    let requiredSpeedup: Double

    var speedup: Double { self.peer / self.tally }
    var met: Bool { self.speedup >= self.requiredSpeedup }
}

func printTable(_ rows: [Comparison]) {
    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
    print(pad("case", 50) + pad("Tally", 14) + pad("swift-prometheus", 18) + pad("speedup", 10) + pad("target", 9) + "met")
    for row in rows {
        print(
            pad(row.name, 50)
                + pad(String(format: "%.2f ", row.tally) + row.unit, 14)
                + pad(String(format: "%.2f ", row.peer) + row.unit, 18)
                + pad(String(format: "%.2fx", row.speedup), 10)
                + pad(">=" + String(format: "%.1fx", row.requiredSpeedup), 9)
                + (row.met ? "yes" : "NO")
        )
    }
}

/// Keeps the optimiser from deleting work whose result is otherwise unused.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// An atomic store the optimiser cannot remove, so a pure loop's result must be computed.
let integerSink = Atomic<UInt64>(0)

@inline(never)
func blackHole(_ value: UInt64) {
    integerSink.store(value, ordering: .relaxed)
}
