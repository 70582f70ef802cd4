import Foundation
import SecAggCrypto
import Testing

@testable import SecAggFuzzing

/// Tests/FuzzCorpus, next to this test target.
private let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("FuzzCorpus")

private func corpusFiles(_ target: String) -> [URL] {
    let directory = corpusRoot.appendingPathComponent(target)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
}

@Suite struct CorpusReplayTests {
    @Test("every registered target has a non-empty committed corpus, and every corpus directory a target")
    func corporaExist() throws {
        #expect(Set(FuzzRegistry.names).count == FuzzRegistry.all.count, "duplicate target names")
        for name in FuzzRegistry.names {
            #expect(!corpusFiles(name).isEmpty, "Tests/FuzzCorpus/\(name) is missing or empty")
        }
        let entries = try FileManager.default.contentsOfDirectory(atPath: corpusRoot.path)
        let directories = entries.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(
                atPath: corpusRoot.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
        #expect(Set(directories) == Set(FuzzRegistry.names), "corpus directories without a target, or the reverse")
    }

    /// The same functions the fuzzer runs; a property violation stops the test process with the target's
    /// message (reproduce it with `swift run SecAggFuzzer <target> <file>`).
    @Test("the committed corpus replays without a property violation", arguments: FuzzRegistry.names)
    func replay(target name: String) throws {
        let target = try #require(FuzzRegistry.target(named: name))
        switch target.requirement() {
        case .met: break
        case let .unsupportedMachine(reason): try Test.cancel("\(name): \(reason)")
        case let .failedSelfTest(reason): Issue.record("\(name): \(reason)")
        }
        guard target.requirement() == .met else { return }
        let files = corpusFiles(name)
        for file in files {
            target.run([UInt8](try Data(contentsOf: file)))
        }
    }

    @Test("the x25519 target's low-order table is exactly what libsodium refuses")
    func lowOrderTable() throws {
        let key = try X25519.PrivateKey(rawRepresentation: SecretBytes(copying: [UInt8](repeating: 0x42, count: 32)))
        for words in X25519Target.lowOrder {
            for top: UInt8 in [0, 0x80] {
                var bytes = X25519Target.littleEndianBytes(words)
                bytes[31] |= top
                #expect(throws: SecAggCryptoError.invalidPublicKey) {
                    try key.sharedSecret(with: X25519.PublicKey(rawRepresentation: bytes))
                }
            }
        }
    }
}
