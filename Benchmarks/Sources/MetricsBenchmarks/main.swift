import CoreMetrics
import Foundation
import Prometheus
import TallyMetrics

// Tally's metrics core against swift-prometheus 2.4.1, in one process, one run.
// Speedup = swift-prometheus time / Tally time (> 1: Tally is faster).
// Options: --quick (a tenth of the iterations), --only KEY (one case, e.g. render-counters).

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
let scale = quick ? 10 : 1

var cases: [(key: String, run: () throws -> Comparison)] = [
    ("counter", MetricsCases.counterOneThread),
    ("counter-2threads", MetricsCases.counterTwoThreads),
    ("histogram", MetricsCases.histogramObserve),
    ("lookup", MetricsCases.labelledLookup),
    ("timer", MetricsCases.swiftMetricsTimer),
    ("create", MetricsCases.createSeries),
    ("render-counters", MetricsCases.renderCounters),
    ("render-histograms", MetricsCases.renderHistograms),
]

print("Tally metrics core vs swift-prometheus 2.4.1 (release build, medians; speedup = peer time / Tally time)")
var rows: [Comparison] = []
for (key, run) in cases where only == nil || only == key {
    do {
        let row = try run()
        rows.append(row)
        print("  measured \(key): Tally " + String(format: "%.2f ", row.tally) + row.unit + ", swift-prometheus " + String(format: "%.2f ", row.peer) + row.unit)
        fflush(nil)
    } catch {
        print("  \(key) failed: \(error)")
    }
}
printTable(rows)
print("")
if only == nil || only == "overhead" {
    OverheadBenchmark.run(quick: quick)
}
if only == nil || only == "process" {
    ProcessCollectorBenchmark.run(quick: quick)
}
if only == nil || only == "native" {
    NativeHistogramBenchmark.run(quick: quick)
}
