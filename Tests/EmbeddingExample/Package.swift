// swift-tools-version: 6.0
// An outside package that depends on swift-secure-aggregation by path, as a user's would, and runs the README's
// embedding example with only the imports the README shows. run.sh builds it (the dependency's identity is its
// folder name, so run.sh links the repository as "swift-secure-aggregation" in a scratch directory).
import PackageDescription

let package = Package(
    name: "EmbeddingExample",
    dependencies: [.package(path: "../swift-secure-aggregation")],
    targets: [
        .executableTarget(
            name: "EmbeddingExample",
            dependencies: [.product(name: "SecureAggregation", package: "swift-secure-aggregation")])
    ]
)
