// swift-tools-version:6.0
import PackageDescription

let strictSwift6: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "tally",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TallyMetrics", targets: ["TallyMetrics"]),
        .library(name: "TallyRedis", targets: ["TallyRedis"]),
        .library(name: "TallyTesting", targets: ["TallyTesting"]),
        .library(name: "TallyKit", targets: ["TallyKit"]),
        .library(name: "TallyPipeline", targets: ["TallyPipeline"]),
        .library(name: "TallyServer", targets: ["TallyServer"]),
        .executable(name: "tally", targets: ["TallyCLI"]),
        .executable(name: "tally-demo", targets: ["TallyDemo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // Small helpers the Swift modules share (a Duration in seconds or milliseconds): no dependencies.
        .target(name: "TallyCore", swiftSettings: strictSwift6),
        // Metric primitives, registry, exposition: no I/O.
        // Thread-local stripe index and relaxed atomics on padded raw memory.
        .target(name: "CTallyAtomics"),
        .target(
            name: "TallyMetrics",
            dependencies: [
                "CTallyAtomics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSwift6
        ),
        // RESP3/RESP2 client on SwiftNIO (TLS with swift-nio-ssl): knows nothing about metrics.
        .target(
            name: "TallyRedis",
            dependencies: [
                "TallyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift6
        ),
        // Test support shipped with the library: a throwaway redis-server, an exposition parser.
        .target(
            name: "TallyTesting",
            dependencies: [
                "TallyCore",
                "TallyLoad",
                "TallyKit",
                "TallyMetrics",
                "TallyRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // Ready-made metrics over the core (database, cache, LLM, WebSocket, messaging, queues) and a bounded buffer: no I/O.
        .target(
            name: "TallyKit",
            dependencies: [
                "TallyCore",
                "TallyMetrics",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift6
        ),
        // Events → log → workers → global derived metrics: event model, EventLog/StateStore, workers.
        .target(
            name: "TallyPipeline",
            dependencies: [
                "CTallyAtomics",
                "TallyCore",
                "TallyMetrics",
                "TallyKit",
                "TallyRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift6
        ),
        // The HTTP face: ingest, /metrics, health, derived metrics, debug rings.
        .target(
            name: "TallyServer",
            dependencies: [
                "TallyCore",
                "TallyPipeline",
                "TallyKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSwift6
        ),
        // Reproducible realistic telemetry: `tally loadgen`, the tests and the benchmarks.
        .target(name: "TallyLoad", swiftSettings: strictSwift6),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "TallyCore",
                "TallyServer",
                "TallyLoad",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "TallyDemo",
            dependencies: [
                "TallyMetrics",
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TallyMetricsTests",
            dependencies: [
                "TallyMetrics",
                "TallyTesting",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TallyRedisTests",
            dependencies: ["TallyRedis", "TallyTesting"],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TallyServerTests",
            dependencies: [
                "TallyCore",
                "TallyServer",
                "TallyTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TallyKitTests",
            dependencies: ["TallyKit", "TallyTesting"],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TallyPipelineTests",
            dependencies: ["TallyCore", "TallyPipeline", "TallyTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift6
        ),
    ]
)
