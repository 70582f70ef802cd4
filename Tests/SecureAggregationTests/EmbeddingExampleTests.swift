import Foundation
import Testing

/// The README shows exactly the example that Tests/EmbeddingExample compiles from an outside package and runs
/// (`Tests/EmbeddingExample/run.sh`, part of `.ci/run`), so the documented code always builds and verifies.
@Test func readmeShowsTheCompiledExample() throws {
    var root = URL(fileURLWithPath: #filePath)
    while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
        root.deleteLastPathComponent()
    }
    let file = root.appendingPathComponent("Tests/EmbeddingExample/Sources/EmbeddingExample/Example.swift")
    let source = try String(contentsOf: file, encoding: .utf8)
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let example = try #require(
        source.components(separatedBy: "// README-EXAMPLE-BEGIN\n").dropFirst().first?
            .components(separatedBy: "// README-EXAMPLE-END").first)
    #expect(example.contains("func embeddingExample()"))
    #expect(readme.contains(example.trimmingCharacters(in: .whitespacesAndNewlines)))
}
