import SecAggCrypto
import SecureAggregation

/// Drives one whole session in process, every message through encode → decode.
struct SessionDriver {
    var configuration: SessionConfiguration
    var inputs: [UInt32: [[UInt64]]]
    var signingKeys: [UInt32: Ed25519.PrivateKey] = [:]
    /// Client u does not answer the server's message of this round (and is gone from then on).
    var dropAt: [UInt32: ProtocolRound] = [:]
    var seedLabel = "driver"
    /// Threads the clients use to mask and the server to unmask.
    var clientMaskingConcurrency = 1
    var serverUnmaskingConcurrency = 2
    var serverLimits = ResourceLimits.default

    struct Outcome {
        var result: AggregationResult?
        var serverError: SecAggError?
        var clientErrors: [UInt32: SecAggError] = [:]
        var server: SecAggServer
    }

    static func makeConfiguration(
        n: Int, t: Int, model: SecurityModel, inputs: [InputSpecification], graph: GraphSpecification = .complete,
        rng: inout DeterministicRandomGenerator
    ) -> (SessionConfiguration, [UInt32: Ed25519.PrivateKey]) {
        var keys: [UInt32: Ed25519.PrivateKey] = [:]
        var verification: [Ed25519.PublicKey] = []
        if model == .active {
            for u in 1...n {
                let k = Ed25519.PrivateKey(using: &rng)
                keys[UInt32(u)] = k
                verification.append(k.publicKey)
            }
        }
        let config = SessionConfiguration(
            clientCount: n, threshold: t, securityModel: model, inputs: inputs, graph: graph,
            nonce: rng.bytes(count: 32), verificationKeys: verification)
        return (config, keys)
    }

    static func randomInputs(
        _ configuration: SessionConfiguration, rng: inout DeterministicRandomGenerator
    ) -> [UInt32: [[UInt64]]] {
        var out: [UInt32: [[UInt64]]] = [:]
        for u in 1...configuration.clientCount {
            out[UInt32(u)] = configuration.inputs.map { spec in
                (0..<spec.length).map { _ in spec.modulus.reduce(rng.next(UInt64.self)) }
            }
        }
        return out
    }

    func run() throws -> Outcome {
        var rng = DeterministicRandomGenerator(testLabel: seedLabel)
        var server = try SecAggServer(configuration: configuration, limits: serverLimits)
        server.unmaskingConcurrency = serverUnmaskingConcurrency
        var clients: [UInt32: SecAggClient] = [:]
        var outcome = Outcome(server: server)
        for u in 1...UInt32(configuration.clientCount) {
            clients[u] = try SecAggClient(
                configuration: configuration, index: ClientID(u), input: inputs[u] ?? [], signingKey: signingKeys[u])
            clients[u]!.maskingConcurrency = clientMaskingConcurrency
        }
        var gone = Set<UInt32>()
        for u in clients.keys.sorted() {
            if dropAt[u] == .advertiseKeys {
                gone.insert(u)
                continue
            }
            let bytes = try clients[u]!.startEncoded(using: &rng)
            try server.receive(encoded: bytes, from: ClientID(u))
        }
        var round = ProtocolRound.advertiseKeys
        while true {
            let outbox: EncodedOutbox
            switch try server.advanceEncoded() {
            case let .nextRound(_, next): outbox = next
            case let .aborted(reason, _):
                outcome.serverError = reason
                outcome.server = server
                return outcome
            case let .completed(result, _):
                outcome.result = result
                outcome.server = server
                return outcome
            }
            round = configuration.round(after: round) ?? .unmasking
            for (id, bytes) in outbox.allMessages.sorted(by: { $0.recipient < $1.recipient }) {
                let recipient = id.rawValue
                guard !gone.contains(recipient) else { continue }
                if dropAt[recipient] == round {
                    gone.insert(recipient)
                    continue
                }
                do {
                    if let reply = try clients[recipient]!.handle(encoded: bytes, using: &rng) {
                        try server.receive(encoded: reply, from: id)
                    }
                } catch {
                    outcome.clientErrors[recipient] = error
                    gone.insert(recipient)
                }
            }
        }
    }

    /// Σ inputs of `included` per vector, in each ring.
    func expectedSum(of included: [UInt32]) -> [[UInt64]] {
        configuration.inputs.enumerated().map { i, spec in
            var total = [UInt64](repeating: 0, count: spec.length)
            for u in included {
                for k in 0..<spec.length { total[k] = spec.modulus.add(total[k], inputs[u]![i][k]) }
            }
            return total
        }
    }
}
