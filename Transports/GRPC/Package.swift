// swift-tools-version: 6.2
// The gRPC transport of swift-secure-aggregation (issue 15): an aggregation service and its clients on gRPC Swift 2,
// and the `secagg-node` executable. A package of its own, so that the root package's builds and tests (debug,
// AddressSanitizer, ThreadSanitizer) never compile gRPC, SwiftNIO or SwiftProtobuf; it depends on the root package by
// path. Build and test: `swift test --package-path Transports/GRPC` (see Transports/GRPC/README.md).
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between clones (CI clones under a name of its
// own): take it from the folder two levels up instead of spelling it.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent

let featureSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
let executableSettings =
    featureSettings + [
        .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))
    ]

let package = Package(
    name: "swift-secure-aggregation-grpc",
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "SecAggGRPC", targets: ["SecAggGRPC"]),
        .executable(name: "secagg-node", targets: ["SecAggNode"]),
    ],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The transport: the generated service (committed, see Protos/ and Scripts/generate.sh), the server that
        // drives SecAggServer, the client that drives SecAggClient, the client's trust policy and TLS settings.
        .target(
            name: "SecAggGRPC",
            dependencies: [
                .product(name: "SecureAggregation", package: rootIdentity),
                .product(name: "SecAggQuantization", package: rootIdentity),
                .product(name: "SecAggCrypto", package: rootIdentity),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Generated/README.md"],
            swiftSettings: featureSettings),
        // `secagg-node serve | join | bench`: argument parsing over SecAggGRPC.
        .executableTarget(
            name: "SecAggNode",
            dependencies: [
                "SecAggGRPC",
                .product(name: "SecureAggregation", package: rootIdentity),
                .product(name: "SecAggQuantization", package: rootIdentity),
                .product(name: "SecAggCrypto", package: rootIdentity),
                .product(name: "SecAggSimulation", package: rootIdentity),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: executableSettings),
        // Policy and framing unit tests, in-process sessions over loopback, and the multi-process tests that run the
        // built `secagg-node` (the dependency on the executable makes `swift test` build it first).
        .testTarget(
            name: "SecAggGRPCTests",
            dependencies: [
                "SecAggGRPC", "SecAggNode",
                .product(name: "SecureAggregation", package: rootIdentity),
                .product(name: "SecAggQuantization", package: rootIdentity),
                .product(name: "SecAggCrypto", package: rootIdentity),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: executableSettings),
    ],
    swiftLanguageModes: [.v6]
)
