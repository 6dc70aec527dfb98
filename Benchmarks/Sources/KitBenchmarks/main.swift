import Foundation

// The sampler and the instrumentation kit (release build).
// Options: --quick (a tenth of the iterations), --only sampler|websocket-overhead|estimation.
let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }

if only == nil || only == "sampler" {
    SamplerDecisionBenchmark.run(quick: quick)
    print("")
}
if only == nil || only == "websocket-overhead" {
    WebSocketOverheadBenchmark.run(quick: quick)
    print("")
}
if only == nil || only == "estimation" {
    EstimationErrorBenchmark.run(quick: quick)
}
