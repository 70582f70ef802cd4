import SecAggCrypto
import SecAggSessionRunner
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

    /// Runs the session through the package's one session runner: client u's generator is keyed by `seedLabel`
    /// and u; a message the server refuses fails the run.
    func run() throws -> Outcome {
        let n = configuration.clientCount
        let generators = try SessionRunner.generators(
            clientCount: n, masterSeed: Hkdf.sha256(Array("driver/\(seedLabel)".utf8)))
        var runner = try SessionRunner(
            configuration: configuration, inputs: (1...UInt32(n)).map { inputs[$0] ?? [] }, generators: generators,
            signingKeys: (1...UInt32(n)).map { signingKeys[$0] }, serverLimits: serverLimits,
            serverConcurrency: serverUnmaskingConcurrency, clientMaskingConcurrency: clientMaskingConcurrency)
        let dropAt = dropAt
        runner.hooks.answers = { client, round in dropAt[client.rawValue] != round }
        var rejections: [String] = []
        runner.hooks.onMessage = { message in
            if let error = message.rejection { rejections.append("\(message.client): \(error)") }
        }
        let outcome = try runner.run()
        if let first = rejections.first { throw SecAggError.invalidConfiguration(reason: "server refused \(first)") }
        var clientErrors: [UInt32: SecAggError] = [:]
        for (client, error) in outcome.clientErrors { clientErrors[client.rawValue] = error }
        return Outcome(
            result: outcome.result, serverError: outcome.abort, clientErrors: clientErrors, server: runner.server)
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
