// swift-tools-version:6.0
// Side-by-side benchmarks: Tally against its peers in one run, release builds.
import PackageDescription

let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tally", path: ".."),
    ],
    targets: [
        // TallyRedis against redis-benchmark on the same throwaway redis-server.
        .executableTarget(
            name: "RedisBenchmarks",
            dependencies: [
                .product(name: "TallyRedis", package: "tally"),
                .product(name: "TallyTesting", package: "tally"),
            ]
        ),
    ]
)
