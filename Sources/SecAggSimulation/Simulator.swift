import Dispatch
import Foundation
package import SecAggCrypto
import SecAggGraph
package import SecAggSessionRunner
package import SecureAggregation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the clients' inputs come from.
protocol InputSource: Sendable {
    /// The configured vectors.
    var specifications: [InputSpecification] { get }
    /// Client `client`'s input, canonical in each ring.
    func input(for client: UInt32) throws(SimulationError) -> [[UInt64]]
    /// Client `client`'s input in a session whose id the client computed as `sessionID` (the default ignores it).
    func input(for client: UInt32, sessionID: [UInt8]?) throws(SimulationError) -> [[UInt64]]
    /// Adds client `client`'s input into `total` (the plaintext reference sum).
    func accumulate(_ client: UInt32, into total: inout [[UInt64]]) throws(SimulationError)
}

extension InputSource {
    func input(for client: UInt32, sessionID: [UInt8]?) throws(SimulationError) -> [[UInt64]] {
        try input(for: client)
    }
}

/// Uniformly random ring elements, reproducible per client: vector i of client u is the mask-PRG
/// expansion of SHA-256("secagg/simulate/input" || seed || LE32(u)) on stream i.
struct SyntheticInputs: InputSource {
    let specifications: [InputSpecification]
    let seed: [UInt8]

    private func prg(_ client: UInt32, stream: Int) throws(SimulationError) -> MaskPrg {
        var bytes = Array("secagg/simulate/input".utf8) + seed
        appendLittleEndian(client, to: &bytes)
        do {
            return try MaskPrg(seed: SecretBytes(copying: Hkdf.sha256(bytes)), stream: UInt32(stream))
        } catch {
            throw .configuration("\(error)")
        }
    }

    func input(for client: UInt32) throws(SimulationError) -> [[UInt64]] {
        var out = specifications.map { [UInt64](repeating: 0, count: $0.length) }
        try accumulate(client, into: &out)
        return out
    }

    func accumulate(_ client: UInt32, into total: inout [[UInt64]]) throws(SimulationError) {
        for (i, spec) in specifications.enumerated() {
            do {
                try prg(client, stream: i).add(into: &total[i], modulus: spec.modulus)
            } catch {
                throw .configuration("\(error)")
            }
        }
    }
}

/// The dropout schedule (SPEC.md §14): a seeded Fisher–Yates shuffle of 1...n, after which each drop, in
/// order, assigns the next round(fraction · n) clients to stop answering at its round. Indexed by client.
package func dropSchedule(clientCount n: Int, drops: [DropSpecification], using rng: inout some RandomByteGenerator)
    -> [ProtocolRound?]
{
    var order = (1...UInt32(n)).map { $0 }
    for i in stride(from: n - 1, to: 0, by: -1) {
        order.swapAt(i, Int(rng.next(below: UInt64(i + 1))))
    }
    var dropRound: [ProtocolRound?] = Array(repeating: nil, count: n + 1)
    var cursor = 0
    for drop in drops {
        for _ in 0..<min(n - cursor, Int((drop.fraction * Double(n)).rounded())) {
            dropRound[Int(order[cursor])] = drop.round
            cursor += 1
        }
    }
    return dropRound
}

/// Runs whole secure aggregations in process, every message through the wire encoding.
public enum Simulator {
    /// Clients processed between server hand-offs: bounds the memory of replies in flight.
    static let batchSize = 64

    /// Runs one session and verifies the aggregate against the plaintext sum of the included clients. With
    /// `inputsDirectory`, the clients' updates are quantized (``runFiles(_:directory:seed:masterSeed:progress:)``).
    ///
    /// `progress` hears when each round starts and ends and, from the worker threads, when each client has
    /// handled its message (``ProgressReporter`` draws a bar from it).
    public static func run(_ options: SimulationOptions, progress: (@Sendable (SimulationProgress) -> Void)? = nil)
        throws(SimulationError) -> SimulationReport
    {
        var systemRng = SystemRandomGenerator()
        let seed = options.seed ?? systemRng.next(UInt64.self)
        var seedBytes = Array("secagg/simulate".utf8)
        appendLittleEndian(seed, to: &seedBytes)
        let masterSeed = Hkdf.sha256(seedBytes)
        do {
            try options.modulus.validate()
        } catch {
            throw .invalidArgument("--bits/--modulus: \(error)")
        }
        if let dp = options.dp {
            guard options.inputsDirectory == nil else {
                throw .invalidArgument(
                    "--dp-epsilon works on synthetic updates; --inputs with distributed DP is not supported yet")
            }
            guard options.clip == nil, options.output == nil else {
                throw .invalidArgument("--clip and --output are for file inputs; with --dp-epsilon use --clip-norm")
            }
            return try runPrivate(options, dp: dp, seed: seed, masterSeed: masterSeed, progress: progress)
        }
        if let directory = options.inputsDirectory {
            return try runFiles(options, directory: directory, seed: seed, masterSeed: masterSeed, progress: progress)
        }
        guard options.clip == nil else { throw .invalidArgument("--clip applies only to file inputs (--inputs DIR)") }
        guard options.output == nil else {
            throw .invalidArgument("--output writes the decoded mean of file inputs: it needs --inputs DIR")
        }
        let n = options.clientCount ?? SimulationOptions.defaultClientCount
        let length = options.vectorLength ?? SimulationOptions.defaultVectorLength
        guard length >= 1, length <= SessionConfiguration.maximumVectorLength else {
            throw .invalidArgument("--length must be in 1...\(SessionConfiguration.maximumVectorLength), got \(length)")
        }
        let source = SyntheticInputs(
            specifications: [InputSpecification(name: "input", length: length, modulus: options.modulus)],
            seed: masterSeed)
        return try run(options, clientCount: n, source: source, seed: seed, masterSeed: masterSeed, progress: progress)
            .report
    }

    /// Runs one session over `source`; returns the report, the engine's result (nil after an abort) and, per
    /// client index (0 unused), the round in which the client stopped answering (scheduled dropout, failure
    /// or a reply the server refused), nil for clients that answered every round they were sent.
    static func run(
        _ options: SimulationOptions, clientCount n: Int, source: any InputSource, seed: UInt64,
        masterSeed: [UInt8], progress: (@Sendable (SimulationProgress) -> Void)?
    ) throws(SimulationError) -> (report: SimulationReport, result: AggregationResult?, stoppedAt: [ProtocolRound?]) {
        let start = wallSeconds()
        guard let rngSeeded = try? DeterministicRandomGenerator(seed: masterSeed) else {
            throw .configuration("cannot seed the generator")
        }
        var rng = rngSeeded
        let graphPlan = try GraphPlan.choose(
            clientCount: n, graph: options.graph, model: options.model, corruptFraction: options.corruptFraction,
            dropoutBound: options.effectiveDropoutBound, threshold: options.threshold)
        let graph = graphPlan.specification
        let threshold = graphPlan.threshold

        // Configuration (and the PKI for the active model).
        var signingKeys: [Ed25519.PrivateKey?] = Array(repeating: nil, count: n + 1)
        var verificationKeys: [Ed25519.PublicKey] = []
        if options.model == .active {
            for u in 1...n {
                let key = Ed25519.PrivateKey(using: &rng)
                signingKeys[u] = key
                verificationKeys.append(key.publicKey)
            }
        }
        let configuration = SessionConfiguration(
            clientCount: n, threshold: threshold, securityModel: options.model, inputs: source.specifications,
            graph: graph, threat: graphPlan.threat, nonce: SessionConfiguration.randomNonce(using: &rng),
            verificationKeys: verificationKeys)
        let drops = options.effectiveDrops
        for drop in drops where drop.round == .consistencyCheck && options.model != .active {
            throw .invalidArgument("--drop …@consistency-check needs --model active")
        }
        let dropRound = dropSchedule(clientCount: n, drops: drops, using: &rng)
        var runner: SessionRunner
        do {
            runner = try SessionRunner(
                configuration: configuration,
                generators: SessionRunner.generators(clientCount: n, masterSeed: masterSeed),
                signingKeys: Array(signingKeys.dropFirst()), serverConcurrency: options.concurrency)
        } catch {
            throw .configuration("\(error)")
        }

        var stoppedAt: [ProtocolRound?] = Array(repeating: nil, count: n + 1)
        var timings: [ProtocolRound: RoundTiming] = [:]
        var traffic: [ProtocolRound: RoundBytes] = [:]
        var workers: [ProtocolRound: Int] = [:]
        var receivers: [ProtocolRound: Int] = [:]
        var dropped: [ProtocolRound: Int] = [:]
        var sentPerClient = [Int](repeating: 0, count: n + 1)
        var expected = source.specifications.map { [UInt64](repeating: 0, count: $0.length) }
        func stop(_ client: ClientID, in round: ProtocolRound) {
            dropped[round, default: 0] += 1
            if stoppedAt[Int(client.rawValue)] == nil { stoppedAt[Int(client.rawValue)] = round }
        }
        runner.hooks.answers = { client, round in dropRound[Int(client.rawValue)] != round }
        runner.hooks.input = { client, sessionID in try source.input(for: client.rawValue, sessionID: sessionID?.bytes)
        }
        runner.hooks.concurrency = max(1, options.concurrency)
        runner.hooks.onRoundStarted = { round, count in progress?(.roundStarted(round, clientCount: count)) }
        if let progress { runner.hooks.onClientFinished = { progress(.clientFinished) } }
        runner.hooks.onServerStarted = { progress?(.serverStarted) }
        runner.hooks.onMessage = { message in
            guard let round = message.round else { return }
            if !message.fromClient {
                traffic[round, default: RoundBytes()].serverToClient += message.bytes.count
                receivers[round, default: 0] += 1
            } else if message.rejection != nil {
                stop(message.client, in: round)
            }
        }
        runner.hooks.onClientStep = { client, round, outcome in
            switch outcome {
            case .dropped, .failed: stop(client, in: round)
            case let .reply(bytes, seconds: cpu):
                timings[round, default: RoundTiming()].clientSecondsTotal += cpu
                workers[round, default: 0] += 1
                traffic[round, default: RoundBytes()].clientToServer += bytes.count
                sentPerClient[Int(client.rawValue)] += bytes.count
            case let .none(seconds: cpu):
                timings[round, default: RoundTiming()].clientSecondsTotal += cpu
            }
        }
        runner.hooks.onMaskedInputAccepted = { client in try source.accumulate(client.rawValue, into: &expected) }
        runner.hooks.onRoundClosed = { round, receiveSeconds, closeSeconds, _ in
            let serverSeconds = receiveSeconds + closeSeconds
            timings[round, default: RoundTiming()].serverSeconds += serverSeconds
            progress?(.roundFinished(round, answered: workers[round] ?? 0, serverSeconds: serverSeconds))
        }
        let outcome = try runner.runSimulation()
        let abortReason = outcome.abort?.description
        let server = runner.server
        let roundOrder = configuration.rounds

        // Verification against the plaintext sum of exactly the included clients.
        var verified = false
        var included = 0
        if let result = server.result {
            included = result.includedClients.count
            verified = result.vectors == expected
        }
        for r in roundOrder {
            if var t = timings[r] {
                let count = workers[r] ?? 0
                t.clientSecondsPerClient = count > 0 ? t.clientSecondsTotal / Double(count) : 0
                timings[r] = t
            }
            if var b = traffic[r] {
                let senders = workers[r] ?? 0
                b.clientToServerPerClient = senders > 0 ? Double(b.clientToServer) / Double(senders) : 0
                let recv = receivers[r] ?? 0
                b.serverToClientPerClient = recv > 0 ? Double(b.serverToClient) / Double(recv) : 0
                traffic[r] = b
            }
        }
        let plainBytes = source.specifications.reduce(0.0) {
            $0 + Double($1.length) * Double($1.modulus.elementBitWidth) / 8
        }
        let completedSenders = server.result?.includedClients ?? []
        let meanSent =
            completedSenders.isEmpty
            ? 0
            : Double(completedSenders.reduce(0) { $0 + sentPerClient[Int($1.rawValue)] })
                / Double(completedSenders.count)
        var droppedByName: [String: Int] = [:]
        for r in roundOrder { droppedByName[r.description] = dropped[r] ?? 0 }
        let report = SimulationReport(
            verified: verified, clients: n, included: included, dropped: droppedByName, threshold: threshold,
            graph: configuration.degree, graphKind: graphPlan.kind.rawValue, model: options.model.description,
            length: source.specifications.reduce(0) { $0 + $1.length },
            modulus: source.specifications.map { $0.modulus.description }.joined(separator: ","),
            timings: Dictionary(uniqueKeysWithValues: timings.map { ($0.key.description, $0.value) }),
            bytes: Dictionary(uniqueKeysWithValues: traffic.map { ($0.key.description, $0.value) }),
            expansion: plainBytes > 0 ? meanSent / plainBytes : 0, maxAbsError: nil,
            totalSeconds: wallSeconds() - start, seed: seed, abortReason: abortReason,
            thresholdRule: graphPlan.rule.rawValue, privacyFailureLog2: graphPlan.parameters?.privacyFailure,
            correctnessFailureLog2: graphPlan.parameters?.correctnessFailure,
            verificationFailure: server.result != nil && !verified
                ? "the aggregate differs from the plaintext sum of the included clients" : nil,
            maskBackend: MaskPrg.maskBackend, x25519Backend: X25519.batchBackend.rawValue)
        return (report, server.result, stoppedAt)
    }
}

extension SessionRunner {
    /// ``run()`` with its errors as ``SimulationError`` (an input hook's own, or any other as a configuration
    /// error).
    package mutating func runSimulation() throws(SimulationError) -> Outcome {
        do {
            return try run()
        } catch let error as SimulationError {
            throw error
        } catch {
            throw .configuration("\(error)")
        }
    }
}
