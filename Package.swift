// swift-tools-version: 6.2
// Secure aggregation for federated learning: Bonawitz et al. (CCS 2017) and SecAgg+ (Bell et al., CCS 2020).

import PackageDescription

let featureSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
let librarySettings = featureSettings
let executableSettings = featureSettings + [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "swift-secure-aggregation",
    products: [
        .library(name: "SecAggCrypto", targets: ["SecAggCrypto"]),
        .library(name: "SecAggGraph", targets: ["SecAggGraph"]),
        .executable(name: "secagg", targets: ["SecAggTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Layer 0: libsodium.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        .target(name: "CSodiumShims", dependencies: ["CSodium"]),
        // Layer 1: primitives.
        .target(
            name: "SecAggCrypto",
            dependencies: ["CSodium", "CSodiumShims"],
            swiftSettings: librarySettings),
        // SecAgg+ communication graphs (complete, random Harary) and the parameter finder.
        .target(
            name: "SecAggGraph",
            dependencies: ["SecAggCrypto"],
            swiftSettings: librarySettings),
        // Known-answer vectors: loads, checks and regenerates every file under Vectors/.
        .target(
            name: "SecAggVectors",
            dependencies: ["SecAggCrypto"],
            swiftSettings: librarySettings),
        // Executable: argument parsing only.
        .executableTarget(
            name: "SecAggTool",
            dependencies: [
                "SecAggCrypto",
                "SecAggVectors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggCryptoTests",
            dependencies: ["SecAggCrypto"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggGraphTests",
            dependencies: ["SecAggGraph", "SecAggCrypto"],
            swiftSettings: executableSettings),
    ],
    swiftLanguageModes: [.v6]
)
