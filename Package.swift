// swift-tools-version: 6.2
import PackageDescription
import class Foundation.ProcessInfo

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Trail",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trail", targets: ["trail"]),
        .library(name: "TrailCore", targets: ["TrailCore"]),
        .library(name: "TrailStore", targets: ["TrailStore"]),
        .library(name: "TrailService", targets: ["TrailService"]),
        .library(name: "TrailServer", targets: ["TrailServer"]),
        // For applications that send events to Trail (SPEC §15): none of the service's targets or stores.
        .library(name: "TrailClient", targets: ["TrailClient"]),
        .library(name: "TrailHummingbird", targets: ["TrailHummingbird"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(
            name: "TrailCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Trail's SQLite VFS (reads of a store through one mapping of the whole file), in C like SQLite's API.
        .target(
            name: "CTrailSQLite",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        .target(
            name: "TrailStore",
            dependencies: [
                "TrailCore",
                "CTrailSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The use cases (ingest, reads and export, verification and checkpoints, queue workers, access records,
        // keys, streams): no HTTP server in here (AsyncHTTPClient delivers to webhook sinks); failures are ServiceErrors, which TrailServer maps to problem+json.
        .target(
            name: "TrailService",
            dependencies: [
                "TrailCore",
                "TrailStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // HTTP only: controllers, middleware, the application builder, and the web console's templates and assets.
        .target(
            name: "TrailServer",
            dependencies: [
                "TrailCore",
                "TrailStore",
                "TrailService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "trail",
            dependencies: [
                "TrailCore",
                "TrailStore",
                "TrailService",
                "TrailServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The Swift client (SPEC §15): AsyncHTTPClient, Foundation and ServiceLifecycle only, so that an application using it compiles
        // neither GRDB nor PostgresNIO nor Hummingbird.
        .target(
            name: "TrailClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // For Hummingbird applications: a middleware that attributes events to the request, and `audit.change`.
        .target(
            name: "TrailHummingbird",
            dependencies: [
                "TrailClient",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        // An application that records its changes with TrailClient and TrailHummingbird (docs/clients.md).
        .executableTarget(
            name: "trail-example",
            dependencies: [
                "TrailClient", "TrailHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/HummingbirdApp",
            swiftSettings: strict
        ),
        // Benchmark tooling (not part of the product): the store's write path alone, and populated stores.
        .executableTarget(
            name: "trail-bench",
            dependencies: [
                "TrailCore",
                "TrailStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Fresh SQLite files and PostgreSQL databases for the contract tests (not a product).
        .target(
            name: "TrailTestSupport",
            dependencies: [
                "TrailStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/TrailTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrailCoreTests",
            dependencies: ["TrailCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrailStoreTests",
            dependencies: [
                "TrailCore", "TrailStore", "TrailTestSupport", "CTrailSQLite",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrailServiceTests",
            dependencies: [
                "TrailCore", "TrailStore", "TrailService", "TrailTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrailClientTests",
            dependencies: [
                "TrailClient", "TrailHummingbird", "trail-example", "TrailCore", "TrailStore", "TrailServer", "TrailTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrailServerTests",
            dependencies: [
                "TrailCore",
                "TrailStore",
                "TrailService",
                "TrailServer",
                "TrailTestSupport",
                "trail",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Conformance")],
            swiftSettings: strict
        ),
    ]
)

// Micro-benchmarks of the write path's pure steps (ordo-one/benchmark), only when asked for:
// `TRAIL_BENCHMARKS=1 swift package --scratch-path .build-bench benchmark` (docs/benchmarks.md). Every other build
// leaves the package and its plugin out: the service, its tests and the client libraries never compile them.
if ProcessInfo.processInfo.environment["TRAIL_BENCHMARKS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(.executableTarget(
        name: "TrailMicroBenchmarks",
        dependencies: ["TrailCore", .product(name: "Benchmark", package: "benchmark"), .product(name: "Crypto", package: "swift-crypto")],
        path: "Benchmarks/TrailMicroBenchmarks",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ))
}

