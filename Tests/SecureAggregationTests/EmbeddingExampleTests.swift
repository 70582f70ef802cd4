import Foundation
import SecAggCrypto
import SecureAggregation
import Testing

// README-EXAMPLE-BEGIN
/// A stand-in for the network: one queue of byte strings per party (0 is the server).
struct Network {
    var queues: [UInt32: [(from: UInt32, bytes: [UInt8])]] = [:]
    mutating func send(_ bytes: [UInt8], from: UInt32, to: UInt32) { queues[to, default: []].append((from, bytes)) }
    mutating func receiveAll(_ party: UInt32) -> [(from: UInt32, bytes: [UInt8])] {
        defer { queues[party] = [] }
        return queues[party] ?? []
    }
}

func embeddingExample() throws -> [UInt64] {
    // 1. Everyone agrees on the configuration (distributed out of band, e.g. with the FL task).
    let configuration = SessionConfiguration(
        clientCount: 5, threshold: 3,
        inputs: [InputSpecification(name: "update", length: 4, modulus: .powerOfTwo(bitWidth: 32))],
        nonce: SessionConfiguration.randomNonce())
    var server = try SecAggServer(configuration: configuration)
    var clients: [UInt32: SecAggClient] = [:]
    for u in UInt32(1)...5 {
        clients[u] = try SecAggClient(configuration: configuration, index: u, input: [[UInt64(u), 0, 1, 2]])
    }
    var network = Network()

    // 2. Round 0: every client sends its advertisement.
    for u in clients.keys.sorted() {
        var rng = SystemRandomGenerator()
        network.send(try clients[u]!.startEncoded(using: &rng), from: u, to: 0)
    }
    // 3. Each round: the server consumes what arrived, the deadline passes, it answers; clients reply.
    //    Client 5 goes offline after the first round and never answers again.
    while true {
        for (from, bytes) in network.receiveAll(0) {
            do { try server.receive(encoded: bytes, from: from) } catch { print("rejected: \(error)") }
        }
        let outbox = try server.advanceEncoded()  // the caller owns the deadline
        if case .completed = server.state { break }
        for (recipient, bytes) in outbox.allMessages { network.send(bytes, from: 0, to: recipient) }
        for u in clients.keys.sorted() where u != 5 || server.currentSessionId == nil {
            for (_, bytes) in network.receiveAll(u) {
                if let reply = try clients[u]!.handle(encoded: bytes) { network.send(reply, from: u, to: 0) }
            }
        }
    }
    // 4. The server learns only the sum of the clients whose masked input arrived (1...4 here).
    return server.result!.vectors[0]
}
// README-EXAMPLE-END

@Test func embeddingExampleAggregates() throws {
    #expect(try embeddingExample() == [1 + 2 + 3 + 4, 0, 4, 8])
}

/// The README shows exactly the code above, so the documented example always compiles and works.
@Test func readmeShowsTheCompiledExample() throws {
    var root = URL(fileURLWithPath: #filePath)
    while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
        root.deleteLastPathComponent()
    }
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let begin = "// README-EXAMPLE-BEGIN\n"
    let end = "// README-EXAMPLE-END"
    let example = try #require(
        source.components(separatedBy: begin).dropFirst().first?.components(separatedBy: end).first)
    #expect(readme.contains(example.trimmingCharacters(in: .whitespacesAndNewlines)))
}
