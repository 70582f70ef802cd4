import SecAggCrypto
import SecAggSessionRunner
import SecureAggregation

/// What a client of a recorded session does.
enum ClientBehaviour: String, Codable, Sendable, CaseIterable {
    /// Answers every server message.
    case completes
    /// Sends its ShareKeys message, then answers nothing (it is in U2 but not in U3).
    case dropsAfterShareKeys
    /// Sends its MaskedInput message, then answers nothing (it is in U3, its input is in the sum, but it
    /// reveals no shares).
    case dropsAfterMaskedInput
    /// Never advertises (sends nothing at all): an absent leaf of the key tree and of the ring tree, and an absent
    /// record in its neighbours' Neighbourhood messages.
    case neverAdvertises

    /// True when the client answers the server message that starts `round`.
    func answers(_ round: ProtocolRound) -> Bool {
        switch self {
        case .completes: true
        case .neverAdvertises: false
        case .dropsAfterShareKeys: round.rawValue <= ProtocolRound.shareKeys.rawValue
        case .dropsAfterMaskedInput: round.rawValue <= ProtocolRound.maskedInputCollection.rawValue
        }
    }
}

/// One message of a transcript, in the order it was sent.
struct RecordedMessage: Equatable, Sendable {
    /// The round the message belongs to: a client message answers it, a server message starts it.
    var round: ProtocolRound
    /// True for client → server, false for server → client.
    var fromClient: Bool
    /// The sender (client message) or the recipient (server message).
    var client: UInt32
    /// The encoded message.
    var bytes: [UInt8]
}

/// The inputs of a deterministic session: everything the engine needs to reproduce it.
struct SessionSetup: Sendable {
    var configuration: SessionConfiguration
    /// Client u's input at position u − 1.
    var inputs: [[[UInt64]]]
    /// Client u's 32-byte generator seed at position u − 1.
    var clientSeeds: [[UInt8]]
    /// Active model: client u's Ed25519 key at position u − 1; empty otherwise.
    var signingKeys: [Ed25519.PrivateKey]
    /// Client u's behaviour at position u − 1.
    var behaviours: [ClientBehaviour]
}

/// A finished session.
struct RecordedSession: Sendable {
    var messages: [RecordedMessage]
    var result: AggregationResult
}

/// Runs whole sessions in process with per-client deterministic generators and records every message.
enum TranscriptSession {
    /// The generator of client `index` for `seed`.
    static func clientGenerator(seed: [UInt8], index: UInt32) throws(VectorError) -> DeterministicRandomGenerator {
        do {
            return try DeterministicRandomGenerator(seed: seed)
        } catch {
            throw .malformedFile(file: "transcript", reason: "client \(index): rngSeed must be 32 bytes")
        }
    }

    /// Runs the session: round 0 by every client in index order; then, after each round is closed by the
    /// server, its messages in recipient order and the replies of the clients that answer, in index order.
    static func run(_ setup: SessionSetup) throws -> RecordedSession {
        let configuration = setup.configuration
        let n = configuration.clientCount
        guard setup.inputs.count == n, setup.clientSeeds.count == n, setup.behaviours.count == n,
            setup.signingKeys.isEmpty || setup.signingKeys.count == n
        else {
            throw VectorError.malformedFile(file: "transcript", reason: "need inputs, seeds and behaviours for \(n)")
        }
        var generators: [DeterministicRandomGenerator] = []
        for u in 1...n { generators.append(try clientGenerator(seed: setup.clientSeeds[u - 1], index: UInt32(u))) }
        var runner = try SessionRunner(
            configuration: configuration, inputs: setup.inputs, generators: generators,
            signingKeys: setup.signingKeys.map { $0 })
        let behaviours = setup.behaviours
        runner.hooks.answers = { client, round in behaviours[client.position].answers(round) }
        runner.hooks.batchSize = n
        var messages: [RecordedMessage] = []
        var rejection: String?
        runner.hooks.onMessage = { message in
            // A transcript ends with the last UnmaskingResponse (SPEC.md §13.2).
            guard let round = message.round else { return }
            if let error = message.rejection { rejection = rejection ?? "client \(message.client.rawValue): \(error)" }
            messages.append(
                RecordedMessage(
                    round: round, fromClient: message.fromClient, client: message.client.rawValue, bytes: message.bytes)
            )
        }
        let outcome = try runner.run()
        if let rejection { throw VectorError.malformedFile(file: "transcript", reason: "server refused \(rejection)") }
        if let error = outcome.clientErrors.first {
            throw VectorError.malformedFile(file: "transcript", reason: "\(error.key) stopped: \(error.value)")
        }
        guard let result = outcome.result else {
            throw VectorError.malformedFile(
                file: "transcript", reason: "the session produced no result: \(outcome.abort.map { "\($0)" } ?? "")")
        }
        return RecordedSession(messages: messages, result: result)
    }

    /// Where a recorded message differs from another, for failure messages.
    static func difference(_ expected: [UInt8], _ actual: [UInt8]) -> String {
        let common = zip(expected, actual).prefix { $0 == $1 }.count
        if common == expected.count && common == actual.count { return "identical" }
        return "bytes differ from offset \(common) (recorded \(expected.count) bytes, got \(actual.count))"
    }
}

extension ProtocolRound {
    /// The round with this CLI spelling (``description``).
    init?(label: String) {
        guard let round = Self.allCases.first(where: { $0.description == label }) else { return nil }
        self = round
    }
}

extension MessageTag {
    /// The message type name used in vector files ("AdvertiseKeys", "KeysBroadcast", …).
    var typeName: String {
        switch self {
        case .advertiseKeys: "AdvertiseKeys"
        case .shareKeys: "ShareKeys"
        case .maskedInput: "MaskedInput"
        case .consistencySignature: "ConsistencySignature"
        case .unmaskingResponse: "UnmaskingResponse"
        case .seedReveal: "SeedReveal"
        case .keysBroadcast: "KeysBroadcast"
        case .keyCommitment: "KeyCommitment"
        case .neighbourhood: "Neighbourhood"
        case .seedReveals: "SeedReveals"
        case .sharesForward: "SharesForward"
        case .consistencyRequest: "ConsistencyRequest"
        case .unmaskingRequest: "UnmaskingRequest"
        case .sessionComplete: "SessionComplete"
        case .abort: "Abort"
        }
    }

    /// The type name of an encoded message (its second byte), or "unknown".
    static func typeName(of bytes: [UInt8]) -> String {
        guard bytes.count >= 2, let tag = MessageTag(rawValue: bytes[1]) else { return "unknown" }
        return tag.typeName
    }
}
