import SecAggCrypto
import SecureAggregation

/// `wire`: the wire decoders and the protocol engine against live sessions, at every message of every round
/// (SPEC.md §11.5, §12). Three recorded honest sessions (semi-honest and active on the complete graph, a sparse
/// semi-honest one with round 0′) are replayed up to one delivery; the input replaces that delivery.
///
/// Input: byte 0 picks the session, bytes 1–2 (LE16) the delivery (modulo their number), byte 3 the claimed
/// party (0: the delivery's own; otherwise the byte modulo n + 2, so 0 and n + 1 are out of range), the rest is
/// the message bytes. Properties:
/// - decoding either fails with a typed error or re-encodes to exactly the input (the encoding is canonical);
/// - a message the server rejects changes nothing: its state, session id, live sets and counters (but the
///   rejection count) are unchanged, and the rest of the honest session, replayed into it, produces exactly the
///   honest aggregate and included clients;
/// - a message a client only rejects (``SecAggError/isRejectionOnly``) changes nothing: its state is unchanged and
///   it answers the honest message with exactly the honest reply (so no randomness was consumed either); any
///   other error aborts it;
/// - nothing traps, whatever is accepted.
enum WireTarget {
    static let target = FuzzTarget(
        name: "wire",
        summary: "wire decoders and engine against live sessions: rejected messages change nothing",
        seeds: seeds, run: run)

    /// One delivery of a recorded session.
    enum Delivery: Sendable {
        /// A client message to the server, with the server as it was just before.
        case toServer(sender: UInt32, bytes: [UInt8], server: SecAggServer)
        /// A server message to a client, with the client and its generator as they were just before, and the
        /// reply the client sent (nil: none).
        case toClient(
            recipient: UInt32, bytes: [UInt8], client: SecAggClient, rng: DeterministicRandomGenerator,
            reply: [UInt8]?)
    }

    /// What the server does, in order, in the honest session: receive a message or close a round.
    enum ReplayStep: Sendable {
        case receive(sender: UInt32, bytes: [UInt8])
        case advance
    }

    struct Recording: Sendable {
        var configuration: SessionConfiguration
        var wire: WireFormat
        var deliveries: [Delivery]
        /// For each delivery to the server, the position of its receive step in `steps`.
        var stepOfDelivery: [Int: Int]
        var steps: [ReplayStep]
        var result: AggregationResult
    }

    /// The recorded sessions (built once per process, deterministically).
    static let recordings: [Recording] = {
        let inputs = [
            InputSpecification(name: "w", length: 5, modulus: .powerOfTwo(bitWidth: 32)),
            InputSpecification(name: "c", length: 3, modulus: .integer(10_007)),
        ]
        return [
            record(label: "wire semi-honest", n: 5, t: 3, model: .semiHonest, graph: .complete, inputs: inputs),
            record(label: "wire active", n: 5, t: 3, model: .active, graph: .complete, inputs: inputs),
            record(label: "wire sparse", n: 8, t: 3, model: .semiHonest, graph: .harary(degree: 4), inputs: inputs),
        ].compactMap { $0 }
    }()

    /// Runs one honest session, recording every delivery with the receiving party's state just before it.
    /// Client n drops after sharing keys, so the server also removes a dropped client's masks.
    static func record(
        label: String, n: Int, t: Int, model: SecurityModel, graph: GraphSpecification, inputs: [InputSpecification]
    ) -> Recording? {
        var rng = DeterministicRandomGenerator(testLabel: label)
        var signing: [UInt32: Ed25519.PrivateKey] = [:]
        var keys: [Ed25519.PublicKey] = []
        if model == .active {
            for u in UInt32(1)...UInt32(n) {
                let key = Ed25519.PrivateKey(using: &rng)
                signing[u] = key
                keys.append(key.publicKey)
            }
        }
        let configuration = SessionConfiguration(
            clientCount: n, threshold: t, securityModel: model, inputs: inputs, graph: graph,
            nonce: rng.bytes(count: 32), verificationKeys: keys)
        guard var server = try? SecAggServer(configuration: configuration, limits: .unlimited) else { return nil }
        server.unmaskingConcurrency = 1
        var clients: [UInt32: SecAggClient] = [:]
        var rngs: [UInt32: DeterministicRandomGenerator] = [:]
        for u in UInt32(1)...UInt32(n) {
            let input = inputs.map { spec in (0..<spec.length).map { _ in spec.modulus.reduce(rng.next(UInt64.self)) } }
            guard
                var client = try? SecAggClient(
                    configuration: configuration, index: ClientID(u), input: input, signingKey: signing[u],
                    limits: .unlimited)
            else { return nil }
            client.maskingConcurrency = 1
            clients[u] = client
            rngs[u] = DeterministicRandomGenerator(testLabel: "\(label) client \(u)")
        }
        let dropped = UInt32(n)
        var deliveries: [Delivery] = []
        var steps: [ReplayStep] = []
        var stepOfDelivery: [Int: Int] = [:]
        func toServer(_ sender: UInt32, _ bytes: [UInt8]) -> Bool {
            stepOfDelivery[deliveries.count] = steps.count
            deliveries.append(.toServer(sender: sender, bytes: bytes, server: server))
            steps.append(.receive(sender: sender, bytes: bytes))
            return (try? server.receive(encoded: bytes, from: ClientID(sender))) != nil
        }
        for u in UInt32(1)...UInt32(n) {
            guard let bytes = try? clients[u]!.startEncoded(using: &rngs[u]!), toServer(u, bytes) else { return nil }
        }
        var round = ProtocolRound.advertiseKeys
        while true {
            steps.append(.advance)
            guard let step = try? server.advanceEncoded() else { return nil }
            if case .completed = step { break }
            guard case let .nextRound(_, outbox) = step else { return nil }
            guard let next = configuration.round(after: round) else { return nil }
            round = next
            var replies: [(UInt32, [UInt8])] = []
            for (id, bytes) in outbox.allMessages.sorted(by: { $0.recipient < $1.recipient }) {
                let recipient = id.rawValue
                if recipient == dropped && round.rawValue > ProtocolRound.shareKeys.rawValue { continue }
                let before = clients[recipient]!
                let beforeRng = rngs[recipient]!
                let reply: [UInt8]?
                do {
                    reply = try clients[recipient]!.handle(encoded: bytes, using: &rngs[recipient]!)
                } catch {
                    return nil
                }
                deliveries.append(
                    .toClient(recipient: recipient, bytes: bytes, client: before, rng: beforeRng, reply: reply))
                if let reply { replies.append((recipient, reply)) }
            }
            for (sender, bytes) in replies { guard toServer(sender, bytes) else { return nil } }
        }
        guard let result = server.result else { return nil }
        return Recording(
            configuration: configuration, wire: WireFormat(configuration: configuration), deliveries: deliveries,
            stepOfDelivery: stepOfDelivery, steps: steps, result: result)
    }

    /// What of the server an observer can see; equal before and after a rejected message (but the count of
    /// rejections, compared separately).
    struct ServerView: Equatable {
        var state: ServerState
        var sessionId: [UInt8]?
        var live: [[ClientID]]
        var awaited: [ClientID]
        var traffic: [ProtocolRound: RoundTraffic]

        init(_ server: SecAggServer) {
            state = server.state
            sessionId = server.sessionID?.bytes
            live = ProtocolRound.allCases.map { server.liveClients(after: $0) }
            awaited = server.awaitedClients
            traffic = server.metrics.traffic
        }
    }

    static func run(_ bytes: [UInt8]) {
        let recordings = Self.recordings
        guard !recordings.isEmpty else { violation("wire", "the honest sessions could not be recorded") }
        guard bytes.count >= 4 else { return }
        let recording = recordings[Int(bytes[0]) % recordings.count]
        let position = (Int(bytes[1]) | Int(bytes[2]) << 8) % recording.deliveries.count
        let payload = Array(bytes[4...])
        let n = recording.configuration.clientCount
        checkCanonical(payload, wire: recording.wire)

        switch recording.deliveries[position] {
        case let .toServer(sender, honest, snapshot):
            let claimed = bytes[3] == 0 ? sender : UInt32(Int(bytes[3]) % (n + 2))
            var server = snapshot
            let before = ServerView(server)
            let rejectedBefore = server.metrics.rejectedMessages
            do {
                try server.receive(encoded: payload, from: ClientID(claimed))
            } catch {
                _ = error.description
                guard ServerView(server) == before, server.metrics.rejectedMessages == rejectedBefore + 1 else {
                    violation("wire", "a rejected message (\(error)) changed the server")
                }
                // The rest of the honest session, from the honest delivery on, gives the honest result.
                let from = recording.stepOfDelivery[position] ?? recording.steps.count
                guard let result = finish(&server, steps: recording.steps[from...]) else {
                    violation("wire", "after a rejected message (\(error)) the honest session did not complete")
                }
                guard result.vectors == recording.result.vectors,
                    result.includedClients == recording.result.includedClients
                else {
                    violation("wire", "after a rejected message (\(error)) the aggregate differs")
                }
                return
            }
            if payload == honest && claimed == sender {
                let from = (recording.stepOfDelivery[position] ?? recording.steps.count) + 1
                guard let result = finish(&server, steps: recording.steps[from...]), result == recording.result
                else { violation("wire", "the honest message, delivered by the fuzzer, changed the outcome") }
            } else {
                // Accepted (e.g. another valid masked input): whatever follows must not trap.
                _ = finish(&server, steps: recording.steps[((recording.stepOfDelivery[position] ?? 0) + 1)...])
            }
        case let .toClient(recipient, honest, snapshot, snapshotRng, reply):
            var client = snapshot
            var rng = snapshotRng
            let before = client.state
            do {
                let answer = try client.handle(encoded: payload, using: &rng)
                if payload == honest, answer != reply {
                    violation("wire", "client \(recipient) answered the honest message differently")
                }
            } catch {
                _ = error.description
                if error.isRejectionOnly {
                    guard client.state == before else {
                        violation("wire", "a rejected message (\(error)) changed client \(recipient)'s state")
                    }
                    let answer: [UInt8]?
                    do {
                        answer = try client.handle(encoded: honest, using: &rng)
                    } catch {
                        violation(
                            "wire", "after a rejected message client \(recipient) refuses the honest one: \(error)")
                    }
                    guard answer == reply else {
                        violation("wire", "after a rejected message client \(recipient) answers differently")
                    }
                } else {
                    guard case .aborted = client.state else {
                        violation("wire", "error \(error) neither rejected the message nor aborted the client")
                    }
                }
            }
        }
    }

    /// Replays server steps; the result, or nil when the session aborted.
    static func finish(_ server: inout SecAggServer, steps: ArraySlice<ReplayStep>) -> AggregationResult? {
        for step in steps {
            switch step {
            case let .receive(sender, bytes): _ = try? server.receive(encoded: bytes, from: ClientID(sender))
            case .advance:
                guard let step = try? server.advance() else { return nil }
                if case .aborted = step { return nil }
            }
        }
        return server.result
    }

    /// Decoding either fails or yields a message that encodes back to exactly the input.
    static func checkCanonical(_ bytes: [UInt8], wire: WireFormat) {
        if let message = try? wire.decodeClientMessage(bytes) {
            guard (try? wire.encode(message)) == bytes else {
                violation("wire", "a decoded client message re-encodes differently")
            }
        }
        if let message = try? wire.decodeServerMessage(bytes) {
            guard wire.encode(message) == bytes else {
                violation("wire", "a decoded server message re-encodes differently")
            }
        }
    }

    /// Seed inputs: every delivery of every session, unchanged (Tests/FuzzCorpus/wire/ is built from these).
    static func seeds() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for (r, recording) in recordings.enumerated() {
            for (d, delivery) in recording.deliveries.enumerated() {
                let bytes: [UInt8]
                switch delivery {
                case let .toServer(_, message, _): bytes = message
                case let .toClient(_, message, _, _, _): bytes = message
                }
                out.append([UInt8(r), UInt8(d & 0xff), UInt8(d >> 8), 0] + bytes)
            }
        }
        return out
    }
}
