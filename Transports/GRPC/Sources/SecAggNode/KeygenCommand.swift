import ArgumentParser
import Foundation
import SecAggCrypto
import SecAggGRPC

/// `secagg-node keygen`: Ed25519 keys for an active-model cohort.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make Ed25519 signing keys for n clients and the verification-key file of the active model.",
        discussion: """
            Writes client-<i>.key (the 32-byte seed as 64 hex digits; give it to client i's --signing-key and keep \
            it secret) and verification-keys.txt (one public key per line, in index order; give it to serve and to \
            every join as --verification-keys).
            """)

    @Option(help: "Number of clients n.")
    var clients: Int

    @Option(help: "Folder to write the keys to (created if missing).")
    var output: String

    func run() throws {
        guard clients >= 2 else { throw ValidationError("--clients must be at least 2") }
        let folder = URL(fileURLWithPath: output)
        var publicKeys: [String] = []
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for index in 1...clients {
                let seed = SecretBytes(randomByteCount: Ed25519.seedByteCount)
                let key = try Ed25519.PrivateKey(seed: seed)
                publicKeys.append(ModelFiles.hex(key.publicKey.rawRepresentation))
                let path = folder.appendingPathComponent("client-\(index).key").path
                guard
                    FileManager.default.createFile(
                        atPath: path, contents: Data((ModelFiles.hex(seed.unsafeExportedBytes()) + "\n").utf8),
                        attributes: [.posixPermissions: 0o600])
                else { throw ValidationError("cannot write \(path)") }
            }
            try (publicKeys.joined(separator: "\n") + "\n").write(
                to: folder.appendingPathComponent("verification-keys.txt"), atomically: true, encoding: .utf8)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw fail("\(error)")
        }
        print("wrote \(clients) signing keys and verification-keys.txt to \(folder.path)")
    }
}
