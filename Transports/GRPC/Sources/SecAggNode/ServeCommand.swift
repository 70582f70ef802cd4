import ArgumentParser
import Foundation
import Logging
import SecAggCrypto
import SecAggGRPC
import SecAggQuantization
import SecAggSimulation
import SecureAggregation

/// `secagg-node serve`: one session's server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one aggregation session as its server and write the aggregate.",
        discussion: """
            Publishes the session (configuration, clip range and scale), waits for the clients, and drives the \
            protocol: each round closes as soon as every awaited client answered, or after --round-timeout \
            seconds (the first round's clock starts with the first client). Clients whose connection dies are \
            removed at once. Logs one line per round (answered, dropped, bytes, time) on standard error; writes \
            the decoded sum of the included clients' updates to --output and a summary on standard output \
            (--json: one object). Exit code 0 only when the session completed.
            """)

    @Option(help: "Address to listen on, HOST:PORT (port 0: any free port, printed in the log).")
    var listen: String

    @Option(help: "Number of clients n (indices 1...n).")
    var clients: Int

    @Option(help: "Values per update m (every client's file must hold exactly m values).")
    var length: Int

    @Option(help: "Element bit width b (ring Z_2^b, 1...64; default 32).")
    var bits: Int?

    @Option(help: "Integer modulus q (ring Z_q, 2...2^62) instead of --bits.")
    var modulus: UInt64?

    @Option(help: "Shamir threshold t (default: the same rule as secagg plan and simulate).")
    var threshold: Int?

    @Option(help: "Security model: semi-honest or active (needs --verification-keys).")
    var model = "semi-honest"

    @Option(help: "Communication graph: complete or harary (k and t from the parameter finder).")
    var graph = "complete"

    @Option(help: "Maximum corrupt fraction γ for the parameter finder.")
    var corrupt: Double?

    @Option(name: .customLong("dropout-bound"), help: "Maximum dropout fraction δ for the parameter finder.")
    var dropoutBound: Double?

    @Option(name: .customLong("round-timeout"), help: "Deadline of each round, in seconds.")
    var roundTimeout: Double

    @Option(help: "Clip range c: clients clip every value to [−c, c] before quantizing (default 1).")
    var clip = 1.0

    @Option(help: "Write the decoded sum here (.npy, or .safetensors with one tensor named 'sum').")
    var output: String?

    @Option(name: .customLong("tls-cert"), help: "Server certificate chain (PEM).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "Server private key (PEM).")
    var tlsKey: String?

    @Option(
        name: .customLong("tls-client-ca"),
        help: "Require client certificates signed by this CA (PEM) whose common name is secagg-client-<index>.")
    var tlsClientCA: String?

    @Flag(help: "Run without TLS (no encryption, no server authentication).")
    var plaintext = false

    @Option(
        name: .customLong("verification-keys"),
        help: "Active model: every client's Ed25519 public key, one line of 64 hex digits per client, in index order.")
    var verificationKeys: String?

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel, label: "secagg-node.serve")
        let endpoint = try Endpoint(parsing: listen, option: "--listen")
        let security: ServerSecurity
        switch (tlsCert, tlsKey, plaintext) {
        case let (cert?, key?, false):
            security = .tls(certificateChain: cert, privateKey: key, clientCertificateAuthority: tlsClientCA)
        case (nil, nil, true): security = .plaintext
        case (_, _, true): throw ValidationError("--plaintext and --tls-cert/--tls-key exclude each other")
        default: throw ValidationError("give --tls-cert and --tls-key, or --plaintext to run without TLS")
        }
        if tlsClientCA != nil, plaintext { throw ValidationError("--tls-client-ca needs TLS") }
        guard roundTimeout.isFinite, roundTimeout > 0 else { throw ValidationError("--round-timeout must be positive") }
        guard length >= 1 else { throw ValidationError("--length must be at least 1") }
        let ring: RingModulus
        switch (bits, modulus) {
        case (nil, nil): ring = .powerOfTwo(bitWidth: 32)
        case let (b?, nil): ring = .powerOfTwo(bitWidth: b)
        case let (nil, q?): ring = .integer(q)
        default: throw ValidationError("give --bits or --modulus, not both")
        }
        do {
            try ring.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        guard let securityModel = SecurityModel.allCases.first(where: { $0.description == model }) else {
            throw ValidationError("--model must be semi-honest or active")
        }
        guard let graphChoice = GraphChoice(rawValue: graph) else {
            throw ValidationError("--graph must be complete or harary")
        }

        let plan: GraphPlan
        do {
            plan = try GraphPlan.choose(
                clientCount: clients, graph: graphChoice, model: securityModel, corruptFraction: corrupt,
                dropoutBound: dropoutBound, threshold: threshold)
        } catch {
            throw fail("\(error)")
        }
        var keys: [Ed25519.PublicKey] = []
        if securityModel == .active {
            guard let verificationKeys else { throw ValidationError("--model active needs --verification-keys") }
            do {
                keys = try ModelFiles.readVerificationKeys(URL(fileURLWithPath: verificationKeys))
            } catch {
                throw fail("\(error)")
            }
            guard keys.count == clients else {
                throw fail("\(verificationKeys) holds \(keys.count) keys for \(clients) clients")
            }
        }
        let configuration = SessionConfiguration(
            clientCount: clients, threshold: plan.threshold, securityModel: securityModel,
            inputs: [InputSpecification(name: "update", length: length, modulus: ring)], graph: plan.specification,
            threat: plan.threat, nonce: SessionConfiguration.randomNonce(), verificationKeys: keys)
        let offer = SessionOffer(
            configuration: configuration, clip: clip, roundTimeout: .milliseconds(Int64(roundTimeout * 1000)))
        let quantization: QuantizationPlan
        do {
            try configuration.validate()
            quantization = try offer.plan()
        } catch let error as SecAggError {
            throw fail("\(error)")
        } catch {
            throw fail("\(error)")
        }
        let outputURL = output.map { URL(fileURLWithPath: $0) }
        if let outputURL, !["npy", "safetensors"].contains(outputURL.pathExtension.lowercased()) {
            throw ValidationError("--output must end in .npy or .safetensors")
        }

        var options = AggregationServerOptions(
            offer: offer, host: endpoint.host, port: endpoint.port, security: security)
        if tlsClientCA != nil { options.authentication = .certificateCommonName(prefix: "secagg-client-") }
        let report: SessionReport
        do {
            report = try await AggregationServer.run(options, logger: logger)
        } catch {
            throw fail("\(error)")
        }

        var summary = ServeSummary(report: report, clientCount: clients)
        if let result = report.result {
            do {
                let sum = try quantization.decodeSum(
                    result.vectors[0], includedClientCount: result.includedClients.count)
                if let outputURL {
                    try ModelFiles.writeVector(sum, name: "sum", to: outputURL)
                    summary.output = outputURL.path
                }
            } catch let error as NodeError {
                throw fail("\(error)")
            } catch {
                throw fail("cannot decode the aggregate: \(error)")
            }
        }
        print(json ? summary.json : summary.text)
        if report.result == nil { throw ExitCode(ExitStatus.failure) }
    }
}

/// What `serve` prints at the end.
struct ServeSummary: Encodable {
    var completed: Bool
    var clients: Int
    var included: [UInt32]
    var excluded: [UInt32]
    var flagged: [String]
    var abortReason: String?
    var sessionSeconds: Double
    var rounds: [RoundReport]
    var output: String?

    enum CodingKeys: String, CodingKey {
        case completed, clients, included, excluded, flagged, rounds, output
        case abortReason = "abort_reason"
        case sessionSeconds = "session_s"
    }

    init(report: SessionReport, clientCount: Int) {
        completed = report.result != nil
        clients = clientCount
        included = report.result?.includedClients.map(\.rawValue) ?? []
        let includedSet = Set(included)
        excluded = (1...UInt32(clientCount)).filter { !includedSet.contains($0) }
        flagged = report.result?.flaggedClients.map(\.description) ?? []
        abortReason = report.abortReason
        sessionSeconds = report.sessionSeconds
        rounds = report.rounds
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        var lines = [
            completed
                ? "session completed: \(included.count) of \(clients) clients in the aggregate"
                : "session aborted: \(abortReason ?? "unknown reason")"
        ]
        if completed {
            lines.append("  included: \(included.map(String.init).joined(separator: ", "))")
            if !excluded.isEmpty { lines.append("  left out: \(excluded.map(String.init).joined(separator: ", "))") }
            if !flagged.isEmpty { lines.append("  flagged: \(flagged.joined(separator: "; "))") }
        }
        lines.append(
            "  session wall time \(String(format: "%.3f", sessionSeconds)) s (first stream to the last message)")
        if let output { lines.append("  wrote the decoded sum to \(output)") }
        return lines.joined(separator: "\n")
    }
}
