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
    ],
    traits: [
        .trait(
            name: "Server", description: "The CLI, the services and the gateway, with their dependencies."),
        .default(enabledTraits: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .target(name: "CNATSWire"),
        .target(
            name: "NATSWire",
            dependencies: ["CNATSWire"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "NATSWireCLI",
            dependencies: [
                "NATSWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser", condition: server),
            ]
        ),
        .target(
            name: "TestHarness",
            dependencies: ["NATSWire"],
            path: "Tests/TestHarness"
        ),
        .testTarget(
            name: "NATSWireTests",
            dependencies: ["NATSWire", "TestHarness"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
