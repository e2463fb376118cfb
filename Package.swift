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
        .trait(name: "Server", description: "The CLI, the services and the gateway, with their dependencies."),
        .default(enabledTraits: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // MARK: The client
        .target(name: "CNATSWire"),
        // OpenSSL (Debian libssl-dev) for TLS and the Ed25519 signatures of NKey auth.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "NATSWire",
            dependencies: ["CNATSWire", "COpenSSL"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "NATSWireCLI",
            dependencies: [
                "NATSWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: server),
            ]
        ),

        // The parser's fuzz target: scripts/fuzz.sh builds it with -sanitize=fuzzer; a normal
        // build makes a replayer of inputs.
        .executableTarget(name: "NATSWireFuzz", dependencies: ["NATSWire"]),

        // MARK: Stores over C libraries
        .systemLibrary(
            name: "CMongoc", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        .target(name: "StoreSupport", dependencies: ["CNATSWire"]),
        .target(name: "MongoStore", dependencies: ["CMongoc", "StoreSupport"]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "PostgresStore", dependencies: ["CPostgres", "StoreSupport"]),

        // MARK: The service runtime and the services
        .target(
            name: "Contracts",
            dependencies: [.product(name: "JWTKit", package: "jwt-kit", condition: server)]
        ),
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "NATSWire", "Contracts",
                .product(name: "Logging", package: "swift-log", condition: server),
            ]
        ),
        .executableTarget(
            name: "AuthService",
            dependencies: [
                "ServiceRuntime", "Contracts", "MongoStore", "StoreSupport",
                .product(name: "JWTKit", package: "jwt-kit", condition: server),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth", condition: server),
                .product(name: "Crypto", package: "swift-crypto", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
            ]
        ),

        .target(
            name: "DataServices",
            dependencies: ["ServiceRuntime", "PostgresStore", "NATSWire"]
        ),
        .executableTarget(
            name: "CustomersService",
            dependencies: [
                "DataServices", "ServiceRuntime", "Contracts", "PostgresStore", "NATSWire",
                .product(name: "Logging", package: "swift-log", condition: server),
            ]
        ),
        .executableTarget(
            name: "ProductsService",
            dependencies: [
                "DataServices", "ServiceRuntime", "Contracts", "PostgresStore", "NATSWire",
                .product(name: "Logging", package: "swift-log", condition: server),
            ]
        ),

        .executableTarget(
            name: "Gateway",
            dependencies: [
                "ServiceRuntime", "Contracts", "NATSWire",
                .product(name: "Hummingbird", package: "hummingbird", condition: server),
                .product(name: "HTTPTypes", package: "swift-http-types", condition: server),
                .product(name: "JWTKit", package: "jwt-kit", condition: server),
                .product(name: "Logging", package: "swift-log", condition: server),
            ]
        ),

        // The HTTP hop alone, for the gateway benchmark's ratio.
        .executableTarget(
            name: "HTTPLimit",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird", condition: server)]
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
            exclude: ["FuzzSeeds", "FuzzRegressions", "FuzzCorpus"]
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "NATSWire", "TestHarness", "ServiceRuntime", "Contracts", "MongoStore", "StoreSupport", "PostgresStore",
                "DataServices",
                .product(name: "JWTKit", package: "jwt-kit", condition: server),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
