// swift-tools-version:6.0
// Side-by-side benchmarks: Tally against its peers in one run, release builds.
import PackageDescription

let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tally", path: ".."),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
    ],
    targets: [
        // Timing loops and optimiser barriers shared by the benchmark executables.
        .target(name: "BenchmarkHarness"),
        // TallyMetrics against swift-prometheus 2.4.1.
        .executableTarget(
            name: "MetricsBenchmarks",
            dependencies: [
                "BenchmarkHarness",
                .product(name: "TallyMetrics", package: "tally"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        // The adaptive sampler's decision cost, the WebSocket facade in the seeds'
        // overhead case (exact and sampled), and the sampling estimation error.
        .executableTarget(
            name: "KitBenchmarks",
            dependencies: [
                "BenchmarkHarness",
                .product(name: "TallyPipeline", package: "tally"),
                .product(name: "TallyKit", package: "tally"),
                .product(name: "TallyMetrics", package: "tally"),
            ]
        ),
        // TallyRedis against redis-benchmark on the same throwaway redis-server.
        .executableTarget(
            name: "RedisBenchmarks",
            dependencies: [
                .product(name: "TallyRedis", package: "tally"),
                .product(name: "TallyTesting", package: "tally"),
            ]
        ),
        // TallyPipeline end to end (append → applied) against raw XADD + XREADGROUP + XACK, and in memory.
        .executableTarget(
            name: "PipelineBenchmarks",
            dependencies: [
                .product(name: "TallyPipeline", package: "tally"),
                .product(name: "TallyRedis", package: "tally"),
                .product(name: "TallyTesting", package: "tally"),
            ]
        ),
        // Reads of the global metrics with a million live sessions, against reading every session.
        .executableTarget(
            name: "SessionReadBenchmarks",
            dependencies: [
                .product(name: "TallyMetrics", package: "tally"),
                .product(name: "TallyPipeline", package: "tally"),
                .product(name: "TallyRedis", package: "tally"),
                .product(name: "TallyTesting", package: "tally"),
            ]
        ),
    ]
)
