import Dispatch
import Foundation
package import SecAggCrypto
import SecAggGraph
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
    /// Adds client `client`'s input into `total` (the plaintext reference sum).
    func accumulate(_ client: UInt32, into total: inout [[UInt64]]) throws(SimulationError)
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

/// CPU time of the calling thread, in seconds.
package func threadCpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Wall-clock seconds since an arbitrary origin.
package func wallSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The clock that times a client's handling of one message: its thread's CPU time (the client's cost on
/// one core, while other clients run side by side), or the wall clock when the client itself uses several
/// threads.
package enum ClientClock: Sendable {
    case threadCpu
    case wall

    /// Seconds since an arbitrary origin.
    func now() -> Double { self == .wall ? wallSeconds() : threadCpuSeconds() }
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

/// One client of a simulation or benchmark with its own random stream, so that running clients in parallel
/// stays reproducible.
package struct SimulatedClient: @unchecked Sendable {
    var engine: SecAggClient
    var rng: DeterministicRandomGenerator
    var gone = false

    /// A session's server and its clients 1…n: client u's generator is keyed by SHA-256(masterSeed ||
    /// LE32(u)), its signing key is `signingKeys[u]` (active model; nil otherwise).
    package static func session(
        configuration: SessionConfiguration, masterSeed: [UInt8], signingKeys: [Ed25519.PrivateKey?],
        serverConcurrency: Int, clientMaskingConcurrency: Int = 1
    ) throws(SimulationError) -> (server: SecAggServer, clients: [SimulatedClient]) {
        let n = configuration.clientCount
        do {
            var server = try SecAggServer(configuration: configuration)
            server.unmaskingConcurrency = max(1, serverConcurrency)
            var clients: [SimulatedClient] = []
            clients.reserveCapacity(n)
            for u in 1...n {
                var clientSeed = masterSeed
                appendLittleEndian(UInt32(u), to: &clientSeed)
                var engine = try SecAggClient(
                    configuration: configuration, index: UInt32(u),
                    signingKey: u < signingKeys.count ? signingKeys[u] : nil)
                engine.maskingConcurrency = max(1, clientMaskingConcurrency)
                let clientRng = try DeterministicRandomGenerator(seed: Hkdf.sha256(clientSeed))
                clients.append(SimulatedClient(engine: engine, rng: clientRng))
            }
            return (server, clients)
        } catch let error as SecAggError {
            throw .configuration(error.description)
        } catch {
            throw .configuration("\(error)")
        }
    }
}

/// Runs whole secure aggregations in process, every message through the wire encoding.
public enum Simulator {
    /// Clients processed between server hand-offs: bounds the memory of replies in flight.
    static let batchSize = 64

    /// Runs one session and verifies the aggregate against the plaintext sum of the included clients. With
    /// `inputsDirectory`, the clients' updates are quantized (``runFiles(_:directory:seed:masterSeed:progress:)``).
    public static func run(_ options: SimulationOptions, progress: (@Sendable (String) -> Void)? = nil)
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

    /// Runs one session over `source`; returns the report and the engine's result (nil after an abort).
    static func run(
        _ options: SimulationOptions, clientCount n: Int, source: any InputSource, seed: UInt64,
        masterSeed: [UInt8], progress: (@Sendable (String) -> Void)?
    ) throws(SimulationError) -> (report: SimulationReport, result: AggregationResult?) {
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
            graph: graph, threat: graphPlan.threat, nonce: rng.bytes(count: 32), verificationKeys: verificationKeys)
        var (server, clients) = try SimulatedClient.session(
            configuration: configuration, masterSeed: masterSeed, signingKeys: signingKeys,
            serverConcurrency: options.concurrency)

        for drop in options.drops where drop.round == .consistencyCheck && options.model != .active {
            throw .invalidArgument("--drop …@consistency-check needs --model active")
        }
        let dropRound = dropSchedule(clientCount: n, drops: options.drops, using: &rng)

        var timings: [ProtocolRound: RoundTiming] = [:]
        var traffic: [ProtocolRound: RoundBytes] = [:]
        var workers: [ProtocolRound: Int] = [:]
        var receivers: [ProtocolRound: Int] = [:]
        var dropped: [ProtocolRound: Int] = [:]
        var sentPerClient = [Int](repeating: 0, count: n + 1)
        var expected = source.specifications.map { [UInt64](repeating: 0, count: $0.length) }
        var abortReason: String?

        // Round 0.
        var pending: [(recipient: UInt32, bytes: [UInt8])] = []
        var round = ProtocolRound.advertiseKeys
        let roundZero = (1...UInt32(n)).map { ($0, [UInt8]()) }
        pending = roundZero
        let concurrency = max(1, options.concurrency)
        let roundOrder = configuration.rounds

        while true {
            // Clients answer the pending messages of `round`, in batches handed to the server.
            var index = 0
            var serverSeconds = 0.0
            while index < pending.count {
                let batch = Array(pending[index..<min(index + batchSize, pending.count)])
                index += batchSize
                var batchInputs: [UInt32: [[UInt64]]] = [:]
                if round == .maskedInputCollection {
                    for (recipient, _) in batch
                    where !clients[Int(recipient) - 1].gone
                        && dropRound[Int(recipient)] != round
                    {
                        batchInputs[recipient] = try source.input(for: recipient)
                    }
                }
                let results = answer(
                    batch, round: round, clients: &clients, dropRound: dropRound, inputs: batchInputs,
                    concurrency: concurrency, clock: .threadCpu, timesInput: true)
                for r in results {
                    switch r.outcome {
                    case .dropped:
                        dropped[round, default: 0] += 1
                    case .failed:
                        dropped[round, default: 0] += 1
                    case let .reply(bytes, seconds: cpu):
                        timings[round, default: RoundTiming()].clientSecondsTotal += cpu
                        workers[round, default: 0] += 1
                        traffic[round, default: RoundBytes()].clientToServer += bytes.count
                        sentPerClient[Int(r.recipient)] += bytes.count
                        let t0 = wallSeconds()
                        do {
                            try server.receive(encoded: bytes, from: r.recipient)
                            if round == .maskedInputCollection {
                                try source.accumulate(r.recipient, into: &expected)
                            }
                        } catch {
                            dropped[round, default: 0] += 1
                        }
                        serverSeconds += wallSeconds() - t0
                    case let .none(seconds: cpu):
                        timings[round, default: RoundTiming()].clientSecondsTotal += cpu
                    }
                }
            }
            let t0 = wallSeconds()
            let outbox: EncodedOutbox
            do {
                outbox = try server.advanceEncoded()
            } catch {
                serverSeconds += wallSeconds() - t0
                timings[round, default: RoundTiming()].serverSeconds += serverSeconds
                abortReason = error.description
                break
            }
            serverSeconds += wallSeconds() - t0
            timings[round, default: RoundTiming()].serverSeconds += serverSeconds
            progress?("\(round): \(workers[round] ?? 0) clients answered, server \(format(serverSeconds, 3)) s")
            if case .completed = server.state { break }
            guard let position = roundOrder.firstIndex(of: round), position + 1 < roundOrder.count else { break }
            round = roundOrder[position + 1]
            pending = outbox.allMessages.sorted { $0.recipient < $1.recipient }
            for (_, bytes) in pending { traffic[round, default: RoundBytes()].serverToClient += bytes.count }
            receivers[round] = pending.count
        }

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
            ? 0 : Double(completedSenders.reduce(0) { $0 + sentPerClient[Int($1)] }) / Double(completedSenders.count)
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
        return (report, server.result)
    }

    /// What a client did with one server message.
    package enum Outcome {
        /// Scheduled to drop in this round, or gone since an earlier drop or failure: not run.
        case dropped
        /// The engine refused the message (or the input); the client is gone from now on.
        case failed(SecAggError)
        /// The encoded reply and the seconds the client spent on it.
        case reply([UInt8], seconds: Double)
        /// Handled without a reply (the last round), in that many seconds.
        case none(seconds: Double)
    }

    /// Lets each client of the batch handle its message (side by side when `concurrency` > 1); returns the
    /// outcomes in batch order.
    ///
    /// Each client is timed by `clock`; with `timesInput`, handing `inputs` to the engine counts as client
    /// work too (the simulation's figures), without it only the protocol step is timed (the benchmark's).
    package static func answer(
        _ batch: [(recipient: UInt32, bytes: [UInt8])], round: ProtocolRound, clients: inout [SimulatedClient],
        dropRound: [ProtocolRound?], inputs: [UInt32: [[UInt64]]], concurrency: Int, clock: ClientClock,
        timesInput: Bool
    ) -> [(recipient: UInt32, outcome: Outcome)] {
        let results = UnsafeMutableBufferPointer<Outcome>.allocate(capacity: batch.count)
        results.initialize(repeating: .dropped)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        clients.withUnsafeMutableBufferPointer { all in
            nonisolated(unsafe) let all = all
            nonisolated(unsafe) let results = results
            let work: @Sendable (Int) -> Void = { i in
                let (recipient, bytes) = batch[i]
                let slot = Int(recipient) - 1
                if all[slot].gone || dropRound[Int(recipient)] == round {
                    all[slot].gone = true
                    results[i] = .dropped
                    return
                }
                var t0 = clock.now()
                do throws(SecAggError) {
                    if let input = inputs[recipient] { try all[slot].engine.provideInput(input) }
                    if !timesInput { t0 = clock.now() }
                    let reply: [UInt8]?
                    var clientRng = all[slot].rng
                    if round == .advertiseKeys {
                        reply = try all[slot].engine.startEncoded(using: &clientRng)
                    } else {
                        reply = try all[slot].engine.handle(encoded: bytes, using: &clientRng)
                    }
                    let seconds = clock.now() - t0
                    all[slot].rng = clientRng
                    results[i] = reply.map { .reply($0, seconds: seconds) } ?? .none(seconds: seconds)
                } catch {
                    all[slot].gone = true
                    results[i] = .failed(error)
                }
            }
            if concurrency <= 1 || batch.count == 1 {
                for i in 0..<batch.count { work(i) }
            } else {
                DispatchQueue.concurrentPerform(iterations: batch.count, execute: work)
            }
        }
        return (0..<batch.count).map { (batch[$0].recipient, results[$0]) }
    }
}
