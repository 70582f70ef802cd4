import Foundation
import Synchronization
import SecAggCrypto
import SecAggGraph
import SecAggSessionRunner
public import SecAggSimulation
import SecureAggregation

/// What `secagg bench client` runs: one client of an n-client SecAgg+ cohort, measured alone.
///
/// Every one of the n clients is a real engine: all advertise keys and reveal their graph-seed contribution (round 0′
/// is all or nothing), so the server builds its three Merkle trees over n slots and every client checks its own proofs.
/// From round 1 on only the measured client and its k neighbours go on (the neighbours send it their share boxes);
/// everybody else stops, so the session cannot complete — the figures are the measured client's own, rounds 0 to 2
/// (advertise, seed reveal, share keys, masked input), with the bytes it received. This is what a cohort of 10^6
/// costs one device, without simulating 10^6 devices beyond round 0′.
public struct ClientBenchmarkOptions: Sendable {
    /// n.
    public var clientCount = 1_000
    /// m.
    public var vectorLength = 10_000
    /// γ, δ for the parameter finder.
    public var corruptFraction = 0.05
    public var dropoutBound = 0.05
    /// The measured client.
    public var client: UInt32 = 1
    /// k and t instead of the finder's (to compare cohorts of different n at the same (k, t)).
    public var degree: Int?
    public var threshold: Int?
    /// Seed of everything random.
    public var seed: UInt64 = 1

    /// Defaults: n = 1,000, m = 10,000, γ = δ = 5%, client 1.
    public init() {}
}

/// The figures of one client measured alone.
public struct ClientBenchmarkResult: Sendable, Codable, Hashable {
    public var clients: Int
    public var length: Int
    public var degree: Int
    public var threshold: Int
    /// The measured client's CPU seconds per round: advertise-keys, seed-reveal, share-keys, masked-input.
    public var clientRoundSeconds: [Double]
    /// Their sum.
    public var clientSeconds: Double
    /// Bytes it received (KeyCommitment, Neighbourhood, SharesForward).
    public var clientDownloadBytes: Int
    /// Bytes it sent (its masked input included).
    public var clientUploadBytes: Int
    /// Peak resident memory of the whole process (all n engines, the server and the harness).
    public var peakRssBytes: Int
    /// Wall clock of the whole run.
    public var totalSeconds: Double

    public enum CodingKeys: String, CodingKey {
        case clients, length, degree, threshold
        case clientRoundSeconds = "client_rounds_s"
        case clientSeconds = "client_s"
        case clientDownloadBytes = "client_download_bytes"
        case clientUploadBytes = "client_upload_bytes"
        case peakRssBytes = "peak_rss_bytes"
        case totalSeconds = "total_s"
    }

    /// One JSON object, keys sorted.
    public var jsonReport: String { sortedJson(self) }

    /// One line.
    public var textReport: String {
        let rounds = clientRoundSeconds.map { String(format: "%.5f", $0) }.joined(separator: " / ")
        return "client alone: n=\(clients) m=\(length) (k=\(degree), t=\(threshold)): "
            + String(format: "%.5f", clientSeconds) + " s (rounds 0, 0′, 1, 2: \(rounds)), "
            + "\(clientDownloadBytes) B down, \(clientUploadBytes) B up; peak RSS "
            + String(format: "%.0f", Double(peakRssBytes) / 1_048_576) + " MiB; total "
            + String(format: "%.1f", totalSeconds) + " s"
    }
}

/// Runs ``ClientBenchmarkOptions``.
public enum ClientBenchmark {
    /// The neighbours of the measured client, learnt from its Neighbourhood message when round 0′ closes.
    private final class Neighbourhood: Sendable {
        private let members = Mutex(Set<UInt32>())
        func set(_ value: Set<UInt32>) { members.withLock { $0 = value } }
        func contains(_ client: UInt32) -> Bool { members.withLock { $0.contains(client) } }
    }

    public static func run(_ options: ClientBenchmarkOptions) throws(SimulationError) -> ClientBenchmarkResult {
        // One small cohort first, so that one-time start-up work (the SIMD paths' self-tests against libsodium) is not
        // charged to the measured client.
        var warmUp = options
        warmUp.clientCount = 400
        warmUp.client = 1
        _ = try measure(warmUp)
        return try measure(options)
    }

    private static func measure(_ options: ClientBenchmarkOptions) throws(SimulationError) -> ClientBenchmarkResult {
        let start = wallSeconds()
        let n = options.clientCount
        guard n >= 2, (1...UInt32(n)).contains(options.client) else {
            throw .invalidArgument("--client must be in 1…n")
        }
        var protocolOptions = ProtocolBenchmarkOptions()
        protocolOptions.clientCount = n
        protocolOptions.graph = .harary
        protocolOptions.corruptFraction = options.corruptFraction
        protocolOptions.dropoutBound = options.dropoutBound
        var (graph, threshold, threat) = try ProtocolBenchmark.chooseGraph(protocolOptions)
        guard case .harary = graph else { throw .invalidArgument("the finder chose the complete graph") }
        if let degree = options.degree, let t = options.threshold {
            guard degree >= 2, degree % 2 == 0, degree <= n - 2, t >= 2, t <= degree else {
                throw .invalidArgument("--degree must be even in 2…n − 2 and --threshold in 2…degree")
            }
            graph = .harary(degree: degree)
            threshold = t
        }
        var seedBytes = Array("secagg/bench/client".utf8)
        appendLittleEndian(options.seed, to: &seedBytes)
        let masterSeed = Hkdf.sha256(seedBytes)
        guard var rng = try? DeterministicRandomGenerator(seed: masterSeed) else {
            throw .configuration("cannot seed the generator")
        }
        let spec = InputSpecification(name: "input", length: options.vectorLength, modulus: .powerOfTwo(bitWidth: 32))
        let configuration = SessionConfiguration(
            clientCount: n, threshold: threshold, securityModel: .semiHonest, inputs: [spec], graph: graph,
            threat: threat, nonce: rng.bytes(count: 32), verificationKeys: [])
        var runner: SessionRunner
        do {
            // The server's memory limit is for a whole cohort going through every round (n · k boxes); here only the
            // measured client's neighbourhood goes past round 0′.
            runner = try SessionRunner(
                configuration: configuration,
                generators: SessionRunner.generators(clientCount: n, masterSeed: masterSeed), serverLimits: .unlimited)
        } catch {
            throw .configuration("\(error)")
        }
        let measured = options.client
        let neighbourhood = Neighbourhood()
        runner.hooks.concurrency = SystemInfo.activeProcessorCount
        runner.hooks.batchSize = 4096
        runner.hooks.answers = { client, round in
            switch round {
            case .advertiseKeys, .seedReveal: true
            default: client.rawValue == measured || neighbourhood.contains(client.rawValue)
            }
        }
        runner.hooks.input = { client, _ in
            var vector = [UInt64](repeating: 0, count: spec.length)
            try ProtocolBenchmark.addInput(of: client.rawValue, seed: masterSeed, spec: spec, into: &vector)
            return [vector]
        }
        let rounds = configuration.rounds
        var perRound = [Double](repeating: 0, count: rounds.count)
        runner.hooks.onClientStep = { client, round, outcome in
            guard client.rawValue == measured else { return }
            switch outcome {
            case let .reply(_, seconds), let .none(seconds):
                perRound[rounds.firstIndex(of: round) ?? 0] += seconds
            case .dropped, .failed: return
            }
        }
        runner.hooks.onRoundClosed = { round, _, _, step in
            guard round == .seedReveal, case let .nextRound(_, outbox) = step else { return }
            let wire = WireFormat(configuration: configuration)
            // Only the measured client's message is made here (the outbox is deferred).
            if let position = outbox.direct.recipients.firstIndex(of: ClientID(measured)),
                case let .neighbourhood(_, _, _, _, _, records, _)? = try? wire.decodeServerMessage(
                    outbox.direct[position].message)
            {
                neighbourhood.set(Set(records.map(\.index)))
            }
        }
        _ = try runner.runSimulation()
        let engine = runner.parties[Int(measured) - 1].engine
        let measuredRounds = Array(perRound.prefix(4))
        return ClientBenchmarkResult(
            clients: n, length: spec.length, degree: configuration.degree, threshold: configuration.threshold,
            clientRoundSeconds: measuredRounds, clientSeconds: measuredRounds.reduce(0, +),
            clientDownloadBytes: engine.metrics.totalBytesReceived, clientUploadBytes: engine.metrics.totalBytesSent,
            peakRssBytes: ProtocolBenchmark.peakResidentBytes(), totalSeconds: wallSeconds() - start)
    }
}
