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
    // The engine's worker threads use Synchronization's Mutex and Atomic (in the Linux toolchain; these releases
    // on Apple platforms).
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "SecAggCrypto", targets: ["SecAggCrypto"]),
        .library(name: "SecAggQuantization", targets: ["SecAggQuantization"]),
        .library(name: "SecAggGraph", targets: ["SecAggGraph"]),
        .library(name: "SecAggPrivacy", targets: ["SecAggPrivacy"]),
        .library(name: "SecureAggregation", targets: ["SecureAggregation"]),
        .library(name: "SecAggSimulation", targets: ["SecAggSimulation"]),
        .executable(name: "secagg", targets: ["SecAggTool"]),
        // The C ABI (Sources/CSecAgg/include/secagg.h) as a shared library, libSecAggC; the Python package loads it.
        .library(name: "SecAggC", type: .dynamic, targets: ["SecAggC"]),
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
        // Layer 2: quantization, planning and model-update files.
        .target(
            name: "SecAggQuantization",
            dependencies: ["SecAggCrypto"],
            swiftSettings: librarySettings),
        // Layer 3: distributed differential privacy (discrete Gaussian and Skellam noise, exact samplers, the
        // randomized Hadamard rotation, conditional rounding, accounting and the joint planner).
        .target(
            name: "SecAggPrivacy",
            dependencies: ["SecAggQuantization", "SecAggCrypto"],
            swiftSettings: librarySettings),
        // Layer 3: communication graphs (complete, random Harary) and the SecAgg+ parameter finder. CSodiumShims:
        // the swap-or-not round loop of the v3 ring (swap_or_not.c).
        .target(
            name: "SecAggGraph",
            dependencies: ["SecAggCrypto", "CSodiumShims"],
            swiftSettings: librarySettings),
        // Layer 3: the protocol engine (pure state machines, wire format).
        .target(
            name: "SecureAggregation",
            dependencies: ["SecAggCrypto", "SecAggGraph"],
            swiftSettings: librarySettings),
        // Layer 4: the one in-process session driver (package access only) of the simulator, the benchmarks, the
        // transcript generator and the tests.
        .target(
            name: "SecAggSessionRunner",
            dependencies: ["SecureAggregation", "SecAggCrypto"],
            swiftSettings: librarySettings),
        // Layer 4: in-process simulation of whole sessions.
        .target(
            name: "SecAggSimulation",
            dependencies: [
                "SecAggSessionRunner", "SecureAggregation", "SecAggGraph", "SecAggPrivacy", "SecAggQuantization",
                "SecAggCrypto",
            ],
            swiftSettings: librarySettings),
        // Layer 4: known-answer vectors: loads, checks and regenerates every file under Vectors/.
        .target(
            name: "SecAggVectors",
            // CSodium: Ed25519 scalar arithmetic for the forged signatures of primitives/ed25519_strict.json.
            dependencies: [
                "SecAggCrypto", "SecAggQuantization", "SecAggPrivacy", "SecureAggregation", "SecAggGraph",
                "SecAggSessionRunner", "CSodium",
            ],
            swiftSettings: librarySettings),
        // Layer 5: `secagg bench` (mask PRG, protocol sessions, Shamir, wire, mask application); in no product.
        .target(
            name: "SecAggBenchmarks",
            dependencies: ["SecAggSimulation", "SecAggPrivacy", "SecureAggregation", "SecAggGraph", "SecAggCrypto"],
            swiftSettings: librarySettings),
        // Layer 5: the C ABI. CSecAgg is its public header (secagg.h), SecAggC its implementation in Swift
        // (@_cdecl functions over the engine and the quantization plan), shipped as the `SecAggC` dynamic library.
        .target(name: "CSecAgg"),
        .target(
            name: "SecAggC",
            dependencies: ["CSecAgg", "CSodiumShims", "SecureAggregation", "SecAggQuantization", "SecAggCrypto"],
            swiftSettings: librarySettings),
        // Executable: argument parsing only.
        .executableTarget(
            name: "SecAggTool",
            dependencies: [
                "SecAggCrypto",
                "SecAggVectors",
                "SecAggSimulation",
                "SecAggBenchmarks",
                "SecureAggregation",
                "SecAggGraph",
                "SecAggQuantization",
                "SecAggPrivacy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggCryptoTests",
            dependencies: ["SecAggCrypto"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggQuantizationTests",
            dependencies: ["SecAggQuantization", "SecAggCrypto", "SecAggVectors"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggPrivacyTests",
            dependencies: ["SecAggPrivacy", "SecAggQuantization", "SecAggCrypto"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggGraphTests",
            // CSodium, CSodiumShims: libsodium's SipHash-2-4 for the independent re-derivation of the v3 ring.
            dependencies: ["SecAggGraph", "SecAggCrypto", "CSodium", "CSodiumShims"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecureAggregationTests",
            dependencies: ["SecureAggregation", "SecAggGraph", "SecAggCrypto", "SecAggSessionRunner"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggSimulationTests",
            dependencies: [
                "SecAggSimulation", "SecureAggregation", "SecAggCrypto", "SecAggGraph", "SecAggQuantization",
                "SecAggPrivacy",
            ],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggBenchmarksTests",
            dependencies: ["SecAggBenchmarks", "SecAggSimulation", "SecureAggregation", "SecAggCrypto"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggToolTests",
            dependencies: [
                "SecAggTool", "SecAggSimulation", "SecureAggregation", "SecAggCrypto", "SecAggPrivacy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: executableSettings),
        // Calls the C ABI through its header (the declarations a C caller sees), linked with its implementation.
        .testTarget(
            name: "SecAggCTests",
            dependencies: ["CSecAgg", "SecAggC"],
            swiftSettings: executableSettings),
        .testTarget(
            name: "SecAggVectorsTests",
            dependencies: ["SecAggVectors", "SecAggCrypto"],
            swiftSettings: executableSettings),
    ],
    swiftLanguageModes: [.v6]
)

// package-benchmark suites (Benchmarks/), only with SECAGG_ENABLE_BENCHMARKING=1, so that default builds, tests
// and CI never resolve the dependency: `SECAGG_ENABLE_BENCHMARKING=1 swift package benchmark --target ProtocolBenchmarks`.
// `secagg bench …` is the dependency-free suite.
if Context.environment["SECAGG_ENABLE_BENCHMARKING"] == "1" {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "ProtocolBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                "SecAggBenchmarks", "SecAggSimulation", "SecureAggregation", "SecAggCrypto",
            ],
            path: "Benchmarks/ProtocolBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]))
}

// Fuzzing (no products; see Tests/FuzzCorpus/README.md): the property checks of every fuzz target
// (SecAggFuzzing), a driver that is a libFuzzer harness when compiled with `-D SECAGG_LIBFUZZER` and
// `-sanitize=fuzzer` and a corpus replayer otherwise (SecAggFuzzer), and the replay of the committed
// corpora in `swift test` (SecAggFuzzingTests). `.ci/fuzz` builds the harness and runs every target.
package.targets.append(contentsOf: [
    .target(
        name: "SecAggFuzzing",
        dependencies: ["SecAggCrypto", "SecAggQuantization", "SecureAggregation", "CSodium", "CSodiumShims"],
        swiftSettings: librarySettings),
    .executableTarget(
        name: "SecAggFuzzer",
        dependencies: ["SecAggFuzzing"],
        swiftSettings: featureSettings),
    .testTarget(
        name: "SecAggFuzzingTests",
        dependencies: ["SecAggFuzzing", "SecAggCrypto"],
        swiftSettings: executableSettings),
])
