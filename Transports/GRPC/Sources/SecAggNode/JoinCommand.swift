import ArgumentParser
import Foundation
import Logging
import SecAggCrypto
import SecAggGRPC
import SecAggQuantization
import SecureAggregation

/// `secagg-node join`: one client.
struct JoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join a session as one client with a model update file.",
        discussion: """
            Fetches the server's offer and checks it against this client's policy before sending anything \
            (minimum threshold as a fraction of the neighbours, minimum and maximum cohort, allowed rings and \
            models, and in the active model the expected verification keys); a refusal exits with code 2 and \
            says which rule failed. Then clips the update to the offered ±c, quantizes it with the session's \
            plan and runs the protocol. Exit code 0 only when the session completed with this client's input in \
            the aggregate.
            """)

    @Option(help: "The server, HOST:PORT.")
    var server: String

    @Option(help: "This client's index, 1...n.")
    var index: UInt32

    @Option(help: "The update: a .npy file or a .safetensors file (all tensors, in file order).")
    var input: String

    @Option(help: "The clip range this client expects; an offer with another one is refused (default: the server's).")
    var clip: Double?

    @Option(name: .customLong("tls-ca"), help: "Verify the server's certificate against these CA certificates (PEM).")
    var tlsCA: String?

    @Option(name: .customLong("tls-cert"), help: "Client certificate chain (PEM), for servers that require one.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "Client private key (PEM).")
    var tlsKey: String?

    @Option(
        name: .customLong("tls-server-name"), help: "The name the server's certificate must carry (default: the host).")
    var tlsServerName: String?

    @Flag(help: "Connect without TLS (no encryption, no server authentication).")
    var plaintext = false

    @Option(
        name: .customLong("min-threshold-fraction"),
        help: "Refuse t below this fraction of the neighbours (n − 1 on the complete graph).")
    var minThresholdFraction = 0.5

    @Option(name: .customLong("min-clients"), help: "Refuse a cohort smaller than this.")
    var minClients = 3

    @Option(name: .customLong("max-clients"), help: "Refuse a cohort larger than this (bounds what is read).")
    var maxClients = 100_000

    @Option(name: .customLong("allow-bits"), help: "Accept the ring Z_2^b (repeatable; default: any ring).")
    var allowBits: [Int] = []

    @Option(name: .customLong("allow-modulus"), help: "Accept the ring Z_q (repeatable; default: any ring).")
    var allowModulus: [UInt64] = []

    @Option(
        name: .customLong("allow-model"), help: "Accept this model: semi-honest or active (repeatable; default both).")
    var allowModel: [String] = []

    @Option(
        name: .customLong("verification-keys"),
        help: "Active model: the keys every client must have, one line of 64 hex digits per client.")
    var verificationKeys: String?

    @Option(name: .customLong("signing-key"), help: "Active model: this client's Ed25519 seed, 64 hex digits.")
    var signingKey: String?

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for the server and its offer.")
    var connectTimeout = 30.0

    @Option(
        name: .customLong("test-pause-after"),
        help: ArgumentHelp(
            "Testing only: after this round's reply was accepted, stop answering and wait to be killed.",
            visibility: .hidden))
    var testPauseAfter: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel, label: "secagg-node.join")
        let endpoint = try Endpoint(parsing: server, option: "--server")
        let security: ClientSecurity
        if plaintext {
            guard tlsCA == nil, tlsCert == nil, tlsKey == nil else {
                throw ValidationError("--plaintext excludes the --tls-… options")
            }
            security = .plaintext
        } else {
            guard tlsCA != nil else {
                throw ValidationError("give --tls-ca to verify the server, or --plaintext to connect without TLS")
            }
            security = .tls(
                trustRoots: tlsCA, certificateChain: tlsCert, privateKey: tlsKey, serverHostname: tlsServerName)
        }
        var options = JoinOptions(host: endpoint.host, port: endpoint.port, security: security, index: ClientID(index))
        options.connectTimeout = .milliseconds(Int64(max(0.001, connectTimeout) * 1000))
        options.expectedClip = clip
        options.pauseAfter = try testPauseAfter.map(parseRound)
        var policy = ClientPolicy()
        guard (0...1).contains(minThresholdFraction) else {
            throw ValidationError("--min-threshold-fraction must be in [0, 1]")
        }
        policy.minimumThresholdFraction = minThresholdFraction
        policy.minimumClientCount = minClients
        policy.maximumClientCount = maxClients
        if !allowBits.isEmpty || !allowModulus.isEmpty {
            policy.allowedModuli = Set(
                allowBits.map { RingModulus.powerOfTwo(bitWidth: $0) } + allowModulus.map { .integer($0) })
        }
        if !allowModel.isEmpty {
            policy.allowedModels = try Set(
                allowModel.map { name in
                    guard let model = SecurityModel.allCases.first(where: { $0.description == name }) else {
                        throw ValidationError("--allow-model must be semi-honest or active, got '\(name)'")
                    }
                    return model
                })
        }
        let values: [Double]
        do {
            if let verificationKeys {
                policy.expectedVerificationKeys = try ModelFiles.readVerificationKeys(
                    URL(fileURLWithPath: verificationKeys))
            }
            if let signingKey { options.signingKey = try ModelFiles.readSigningKey(URL(fileURLWithPath: signingKey)) }
            values = try ModelFiles.readUpdate(URL(fileURLWithPath: input))
        } catch {
            throw fail("\(error)")
        }
        options.policy = policy

        do {
            let report = try await AggregationClient.join(options, valueCount: values.count, logger: logger) {
                (offer) throws(NodeError) -> [UInt64] in
                let plan = try offer.plan()
                do {
                    let update = try plan.quantize(values)
                    if update.clippedCount > 0 {
                        logger.warning(
                            "\(update.clippedCount) of \(values.count) values lay outside ±\(offer.clip) and were clipped"
                        )
                    }
                    return update.elements
                } catch {
                    throw .file(path: input, reason: "cannot quantize: \(error)")
                }
            }
            guard report.inputIncluded else { throw NodeError.inputNotIncluded }
            print("session completed: client \(index)'s input is in the aggregate")
        } catch let error as NodeError {
            if case .policyRefused = error { throw fail("\(error)", status: ExitStatus.refused) }
            throw fail("\(error)")
        }
    }
}
