// The README's embedding example, verbatim between the markers (Tests/SecAggToolTests checks the README shows
// exactly this). Compiled from an outside package with only the imports the README shows: see run.sh.
import SecureAggregation

// README-EXAMPLE-BEGIN
/// A stand-in for the network: one queue of byte strings per party (server: nil).
struct Network {
    var queues: [ClientID?: [(from: ClientID?, bytes: [UInt8])]] = [:]
    mutating func send(_ bytes: [UInt8], from: ClientID?, to: ClientID?) {
        queues[to, default: []].append((from, bytes))
    }
    mutating func receive(_ party: ClientID?) -> (from: ClientID?, bytes: [UInt8])? {
        queues[party]?.isEmpty == false ? queues[party]!.removeFirst() : nil
    }
}

func embeddingExample() throws -> (sum: [UInt64], clients: [ClientID: ClientState]) {
    // 1. Check-in: the server assigns indices 1...n, builds the configuration and publishes its bytes.
    let configuration = SessionConfiguration(
        clientCount: 5, threshold: SessionConfiguration.defaultThreshold(clientCount: 5),
        inputs: [InputSpecification(name: "update", length: 4, modulus: .powerOfTwo(bitWidth: 32))],
        nonce: SessionConfiguration.randomNonce())
    let published = configuration.encoded
    var server = try SecAggServer(configuration: configuration)

    // 2. Each client decodes the configuration, applies its own policy, and starts (input comes later).
    var clients: [ClientID: SecAggClient] = [:]
    var network = Network()
    for id in (1...5).map({ ClientID($0) }) {
        let offered = try SessionConfiguration(encoded: published)
        guard offered.threshold * 2 > offered.clientCount else {
            throw SecAggError.invalidConfiguration(reason: "policy")
        }
        clients[id] = try SecAggClient(configuration: offered, index: id)  // validates t, memory, self-test
        network.send(try clients[id]!.startEncoded(), from: id, to: nil)
    }

    // 3. Each round: deliver until every awaited client answered (or the deadline passed), then advance.
    //    Client 5 goes offline after round 0; the others finish training while keys are agreed.
    var finished = false
    while !finished {
        var delivered = 0
        while !server.isRoundComplete, delivered < 1_000, let (from, bytes) = network.receive(nil) {
            delivered += 1  // stands in for "until the round's deadline"
            do { try server.receive(encoded: bytes, from: from!) } catch { print("rejected: \(error)") }
        }
        let step = try server.advanceEncoded()
        if case .nextRound = step {} else { finished = true }
        for (recipient, bytes) in step.outbox.allMessages { network.send(bytes, from: nil, to: recipient) }
        for id in clients.keys.sorted() where id != 5 {
            while let (_, bytes) = network.receive(id) {
                var reply = try clients[id]!.handle(encoded: bytes)
                if clients[id]!.state == .inputRequired {
                    reply = try clients[id]!.provideInputEncoded([[UInt64(id.rawValue), 0, 1, 2]])
                }
                if let reply { network.send(reply, from: id, to: nil) }
            }
        }
    }
    // 4. The server learns only the sum of the clients whose masked input arrived (1...4 here); each of them
    //    learns from the end-of-session message that the aggregation completed with its input.
    return (server.result?.vectors[0] ?? [], clients.mapValues(\.state))
}
// README-EXAMPLE-END
