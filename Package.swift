// swift-tools-version: 6.1
import PackageDescription

// NATSWire (the client library) depends on no other package. Everything else in this
// package (the CLI, the services, the gateway) sits behind the default `Server` trait, so
// a consumer that writes `.package(url: ..., traits: [])` and uses only the `NATSWire`
// product resolves no other package at all.
let server: TargetDependencyCondition? = .when(traits: ["Server"])

let package = Package(
    name: "NATSWire",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "NATSWire", targets: ["NATSWire"]),
        .executable(name: "natswire", targets: ["NATSWireCLI"]),
        .executable(name: "AuthService", targets: ["AuthService"]),
        .executable(name: "CustomersService", targets: ["CustomersService"]),
        .executable(name: "ProductsService", targets: ["ProductsService"]),
        .executable(name: "Gateway", targets: ["Gateway"]),
        .executable(name: "HTTPLimit", targets: ["HTTPLimit"]),
    ],
    traits: [
        .trait(
            name: "Server", description: "The CLI, the services and the gateway, with their dependencies."),
        .default(enabledTraits: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        // No FullFoundation (nor ConfigurationSupport): the gateway runs on FoundationEssentials,
        // without ICU and the old Foundation (issue 14: memory).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // Settings from the command line, the environment and `.env` (JSON files not needed:
        // its default trait would bring full Foundation into the Foundation-free services).
        .package(
            url: "https://github.com/apple/swift-configuration.git", from: "1.0.0",
            traits: ["CommandLineArguments"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
    ],
    targets: [
        // MARK: The client
        .target(name: "CNATSWire", path: "Sources/Client/CNATSWire"),
        // OpenSSL (Debian libssl-dev) for TLS and the Ed25519 signatures of NKey auth.
        .systemLibrary(
            name: "COpenSSL", path: "Sources/Client/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .target(
            name: "NATSWire",
            dependencies: ["CNATSWire", "COpenSSL"], path: "Sources/Client/NATSWire",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "NATSWireCLI",
            dependencies: [
                "NATSWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: server),
            ], path: "Sources/Client/NATSWireCLI"
        ),

        // The parser's fuzz target: scripts/fuzz.sh builds it with -sanitize=fuzzer; a normal
        // build makes a replayer of inputs.
        .executableTarget(
            name: "NATSWireFuzz", dependencies: ["NATSWire"], path: "Sources/Client/NATSWireFuzz"),

        // MARK: Stores over C libraries
        .systemLibrary(
            name: "CMongoc", path: "Sources/Stores/CMongoc", pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev"])]),
        .target(
            name: "BlockingCalls", dependencies: ["CNATSWire"], path: "Sources/Stores/BlockingCalls"),
        .target(
            name: "MongoStore",
            dependencies: [
                "CMongoc", "BlockingCalls",
                .product(name: "Tracing", package: "swift-distributed-tracing", condition: server),
            ], path: "Sources/Stores/MongoStore"),
        .systemLibrary(
            name: "CPostgres", path: "Sources/Stores/CPostgres", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .target(
            name: "PostgresStore",
            dependencies: [
                "CPostgres", "BlockingCalls",
                .product(name: "Tracing", package: "swift-distributed-tracing", condition: server),
            ],
            path: "Sources/Stores/PostgresStore"),

        // MARK: The service runtime and the services
        .target(
            name: "Contracts",
            dependencies: [.product(name: "JWTKit", package: "jwt-kit", condition: server)],
            path: "Sources/Runtime/Contracts"
        ),
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "NATSWire", "Contracts", "BlockingCalls",
                .product(name: "Logging", package: "swift-log", condition: server),
                .product(name: "Tracing", package: "swift-distributed-tracing", condition: server),
                .product(name: "Instrumentation", package: "swift-distributed-tracing", condition: server),
                .product(name: "Configuration", package: "swift-configuration", condition: server),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: server),
                .product(name: "Metrics", package: "swift-metrics", condition: server),
                .product(name: "Prometheus", package: "swift-prometheus", condition: server),
            ], path: "Sources/Runtime/ServiceRuntime"
        ),
        .executableTarget(
            name: "AuthService",
            dependencies: [
                "ServiceRuntime", "Contracts", "MongoStore", "BlockingCalls",
                .product(name: "JWTKit", package: "jwt-kit", condition: server),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth", condition: server),
                .product(name: "Crypto", package: "swift-crypto", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
                .product(name: "Metrics", package: "swift-metrics", condition: server),
            ], path: "Sources/Services/AuthService"
        ),

        .target(
            name: "PostgresTables",
            dependencies: ["ServiceRuntime", "PostgresStore", "NATSWire", "Contracts"],
            path: "Sources/Services/PostgresTables"
        ),
        .executableTarget(
            name: "CustomersService",
            dependencies: [
                "PostgresTables", "ServiceRuntime", "Contracts", "PostgresStore", "NATSWire",
                .product(name: "Logging", package: "swift-log", condition: server),
            ], path: "Sources/Services/CustomersService"
        ),
        .executableTarget(
            name: "ProductsService",
            dependencies: [
                "PostgresTables", "ServiceRuntime", "Contracts", "PostgresStore", "NATSWire",
                .product(name: "Logging", package: "swift-log", condition: server),
            ], path: "Sources/Services/ProductsService"
        ),

        .executableTarget(
            name: "Gateway",
            dependencies: [
                "ServiceRuntime", "Contracts", "NATSWire",
                .product(name: "Hummingbird", package: "hummingbird", condition: server),
                .product(name: "HTTPTypes", package: "swift-http-types", condition: server),
                .product(name: "JWTKit", package: "jwt-kit", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: server),
                .product(name: "Metrics", package: "swift-metrics", condition: server),
                .product(name: "Tracing", package: "swift-distributed-tracing", condition: server),
                .product(name: "Instrumentation", package: "swift-distributed-tracing", condition: server),
            ], path: "Sources/Services/Gateway"
        ),

        // The HTTP hop alone (and with one NATS request), for the gateway benchmark's ratio.
        .executableTarget(
            name: "HTTPLimit",
            dependencies: ["NATSWire", .product(name: "Hummingbird", package: "hummingbird", condition: server)],
            path: "Sources/Tools/HTTPLimit"
        ),

        // MARK: Tests
        .target(
            name: "TestHarness",
            dependencies: ["NATSWire"],
            path: "Tests/TestHarness"
        ),
        .testTarget(
            name: "NATSWireTests",
            dependencies: ["NATSWire", "TestHarness"],
            exclude: ["FuzzSeeds", "FuzzRegressions", "FuzzCorpus", "Interop"]
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "NATSWire", "TestHarness", "ServiceRuntime", "Contracts", "MongoStore", "BlockingCalls",
                "PostgresStore",
                "PostgresTables",
                .product(name: "JWTKit", package: "jwt-kit", condition: server),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
