import Foundation
import SecAggCrypto
import SecAggGraph
import SecureAggregation

/// `protocol/transcript_*.json`: complete protocol sessions with fixed randomness, every message in order.
///
/// A file is checked twice: the engine re-runs the session from the recorded seeds and must produce every
/// message byte for byte and the same sum; and the recorded bytes are fed into a fresh server (every client
/// message decoded, the server's outputs compared with the recorded server messages) and into fresh clients
/// (every recorded server message handled, the replies compared), so a mismatch is reported at the message
/// where it occurs.
public enum TranscriptVectors {
    /// The `algorithm` value.
    public static let algorithm = "secagg-protocol-transcript"

    /// One recorded session.
    struct Scenario: Sendable {
        /// File name without extension, under `protocol/`.
        var name: String
        var title: String
        var model: SecurityModel
        var graph: GraphSpecification
        var clientCount: Int
        var threshold: Int
        /// Sends ShareKeys, then nothing.
        var dropsAfterShareKeys: UInt32
        /// Sends MaskedInput, then nothing; nil: the client opposite `dropsAfterShareKeys` on the Harary
        /// ring, so that no client has both dropouts as neighbours.
        var dropsAfterMaskedInput: UInt32?
        /// Never advertises (absent from the key tree), if any.
        var neverAdvertises: UInt32? = nil

        var relativePath: String { "protocol/\(name).json" }
        /// The label of the setup generator (nonce, Ed25519 seeds, inputs).
        var label: String { "secagg/v1/vectors/protocol/\(name)" }
        /// The label of client u's generator.
        func clientLabel(_ u: Int) -> String { "\(label)/client/\(u)" }
    }

    /// The recorded sessions. With n = 6 and t = 3 two dropouts leave the t + 1 = 4 responders the
    /// server requires in the last round (n = 5 would abort). On a Harary graph with k = 4 and t = 3 a
    /// surviving client adjacent to both dropouts keeps only 2 < t answering neighbours, so its self-mask
    /// seed could not be rebuilt: n = 10 places the second dropout opposite the first (ring distance 5).
    static let scenarios: [Scenario] = [
        Scenario(
            name: "transcript_semi_honest_complete", title: "semi-honest, complete graph, n = 6, t = 3",
            model: .semiHonest, graph: .complete, clientCount: 6, threshold: 3, dropsAfterShareKeys: 2,
            dropsAfterMaskedInput: 5),
        Scenario(
            name: "transcript_active_complete", title: "active, complete graph, n = 6, t = 3", model: .active,
            graph: .complete, clientCount: 6, threshold: 3, dropsAfterShareKeys: 3, dropsAfterMaskedInput: 4),
        Scenario(
            name: "transcript_semi_honest_harary", title: "semi-honest, Harary graph, n = 10, k = 4, t = 3",
            model: .semiHonest, graph: .harary(degree: 4), clientCount: 10, threshold: 3, dropsAfterShareKeys: 2,
            dropsAfterMaskedInput: nil),
        Scenario(
            name: "transcript_active_harary", title: "active, Harary graph, n = 12, k = 6, t = 4", model: .active,
            graph: .harary(degree: 6), clientCount: 12, threshold: 4, dropsAfterShareKeys: 2,
            dropsAfterMaskedInput: 7),
        // Absent leaves (SPEC.md §11.2): a client that never advertises is counted out of the session id's count,
        // is an absent leaf of the key and ring trees and an absent record of its neighbours' Neighbourhoods.
        Scenario(
            name: "transcript_semi_honest_harary_absent",
            title: "semi-honest, Harary graph, n = 12, k = 6, t = 3, one client absent", model: .semiHonest,
            graph: .harary(degree: 6), clientCount: 12, threshold: 3, dropsAfterShareKeys: 2,
            dropsAfterMaskedInput: 9, neverAdvertises: 5),
    ]

    /// The vectors every client contributes: a full-width ring, a ring whose elements straddle bytes when
    /// packed, and a rejection-sampled Z_q.
    static let inputSpecifications = [
        InputSpecification(name: "weights", length: 10, modulus: .powerOfTwo(bitWidth: 32)),
        InputSpecification(name: "packed", length: 6, modulus: .powerOfTwo(bitWidth: 13)),
        InputSpecification(name: "counts", length: 4, modulus: .integer(10_007)),
    ]

    struct InputField: Codable, Sendable, Equatable {
        var name: String
        var length: Int
        /// "2^b" or the decimal q.
        var modulus: String
    }

    struct Secrets: Codable, Sendable {
        /// c^SK: the X25519 key for share encryption (first 32 bytes of the client's generator).
        var encryptionPrivateKey: String
        /// s^SK: the X25519 key for pairwise masks (next 32 bytes).
        var maskingPrivateKey: String
        /// Sparse graphs: r_u, the graph-seed contribution (next 32 bytes, drawn in round 0, public once
        /// revealed in round 0′).
        var seedContribution: String?
        /// b_u: the self-mask seed (next 32 bytes, drawn when the shares are made).
        var selfMaskSeed: String
        /// Active model: the Ed25519 seed of the client's signing key.
        var signingKeySeed: String?
    }

    struct ClientField: Codable, Sendable {
        var index: UInt32
        var behaviour: String
        var rngLabel: String
        var rngSeed: String
        /// One list of decimal elements per configured input.
        var input: [[String]]
        /// N(u) in the session's graph, ascending.
        var neighbours: [UInt32]
        var testOnlySecrets: Secrets
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// "setup", "message" or "outcome".
        var kind: String
        var round: String?
        /// "clientToServer" or "serverToClient".
        var direction: String?
        /// Sender of a client message, recipient of a server message.
        var client: UInt32?
        var messageType: String?
        var message: String?
        var result: String
    }

    struct Group: Codable, Sendable {
        var scenario: String
        var securityModel: String
        var graph: String
        var clientCount: Int
        var threshold: Int
        var inputs: [InputField]
        var setupLabel: String
        var configuration: String
        var configurationDigest: String
        var sessionId: String
        var clients: [ClientField]
        /// The sum of the included clients' inputs, one list of decimal elements per configured input.
        var aggregate: [[String]]
        var includedClients: [UInt32]
        var tests: [Test]
    }

    static func modulusText(_ modulus: RingModulus) -> String {
        switch modulus {
        case let .powerOfTwo(bitWidth): "2^\(bitWidth)"
        case let .integer(q): "\(q)"
        }
    }

    static func decimal(_ vectors: [[UInt64]]) -> [[String]] { vectors.map { $0.map(String.init) } }

    // MARK: Generation

    /// The deterministic setup of a scenario.
    static func setup(for scenario: Scenario) throws -> (SessionSetup, signingSeeds: [[UInt8]]) {
        var rng = ProtocolVectors.generator(label: scenario.label)
        var signingSeeds: [[UInt8]] = []
        var signingKeys: [Ed25519.PrivateKey] = []
        if scenario.model == .active {
            for _ in 1...scenario.clientCount {
                let seed = rng.bytes(count: Ed25519.seedByteCount)
                signingSeeds.append(seed)
                signingKeys.append(try Ed25519.PrivateKey(seed: SecretBytes(copying: seed)))
            }
        }
        let nonce = rng.bytes(count: SessionConfiguration.nonceByteCount)
        let configuration = SessionConfiguration(
            clientCount: scenario.clientCount, threshold: scenario.threshold, securityModel: scenario.model,
            inputs: inputSpecifications, graph: scenario.graph, nonce: nonce,
            verificationKeys: signingKeys.map(\.publicKey))
        var inputs: [[[UInt64]]] = []
        for _ in 1...scenario.clientCount {
            inputs.append(
                inputSpecifications.map { spec in
                    (0..<spec.length).map { _ in
                        spec.modulus.modulusValue.map { rng.next(below: $0) } ?? rng.next(UInt64.self)
                    }
                })
        }
        let seeds = (1...scenario.clientCount).map { ProtocolVectors.seed(label: scenario.clientLabel($0)) }
        var setup = SessionSetup(
            configuration: configuration, inputs: inputs, clientSeeds: seeds, signingKeys: signingKeys,
            behaviours: [])
        let second = try scenario.dropsAfterMaskedInput ?? opposite(of: scenario.dropsAfterShareKeys, in: setup)
        setup.behaviours = (1...scenario.clientCount).map { u -> ClientBehaviour in
            if UInt32(u) == scenario.neverAdvertises { return .neverAdvertises }
            if u == scenario.dropsAfterShareKeys { return .dropsAfterShareKeys }
            if u == second { return .dropsAfterMaskedInput }
            return .completes
        }
        return (setup, signingSeeds)
    }

    /// The client opposite `client` on the session's Harary ring. The graph depends only on rounds 0 and 0′
    /// (the session id and the revealed contributions), so it is known before anyone drops.
    static func opposite(of client: UInt32, in setup: SessionSetup) throws -> UInt32 {
        let configuration = setup.configuration
        let n = configuration.clientCount
        var entries: [AdvertisedKeys] = []
        var contributions: [SeedContribution] = []
        for u in 1...n {
            let key = setup.signingKeys.isEmpty ? nil : setup.signingKeys[u - 1]
            var party = try SecAggClient(configuration: configuration, index: ClientID(UInt32(u)), signingKey: key)
            var rng = try TranscriptSession.clientGenerator(seed: setup.clientSeeds[u - 1], index: UInt32(u))
            if case let .advertiseKeys(_, keys) = try party.start(using: &rng) { entries.append(keys) }
            let secrets = try clientSecrets(seed: setup.clientSeeds[u - 1], index: UInt32(u), sparse: true)
            contributions.append(SeedContribution(index: UInt32(u), contribution: secrets[2]))
        }
        let signed = configuration.securityModel == .active
        var keyLeaves: [UInt8] = []
        var revealLeaves: [UInt8] = []
        for (entry, contribution) in zip(entries, contributions) {
            keyLeaves += SessionTrees.keyLeafHash(
                index: entry.index, entry: entry.entryBytes(signed: signed, committed: true))
            revealLeaves += SessionTrees.revealLeafHash(
                index: contribution.index, contribution: contribution.contribution)
        }
        guard entries.count == n,
            let keyTree = try? MerkleTree(leafHashes: keyLeaves, slotCount: n),
            let revealTree = try? MerkleTree(leafHashes: revealLeaves, slotCount: n)
        else { throw VectorError.malformedFile(file: "transcript", reason: "no key tree") }
        let sessionId = SessionTrees.sessionId(
            configurationDigest: configuration.digest, count: n, keyRoot: keyTree.root)
        let seed = SessionTrees.graphSeed(sessionId: sessionId, revealRoot: revealTree.root)
        guard let harary = try configuration.makeGraph(graphSeed: seed) as? HararyGraph,
            let position = harary.position(of: client),
            let target = (1...UInt32(n)).first(where: { harary.position(of: $0) == (position + n / 2) % n })
        else { throw VectorError.malformedFile(file: "transcript", reason: "no Harary ring to place the dropout on") }
        return target
    }

    /// The first draws of a client's generator: c^SK, s^SK (round 0), on sparse graphs r_u (round 0), then
    /// b_u (first draw of round 1); 32 bytes each.
    static func clientSecrets(seed: [UInt8], index: UInt32, sparse: Bool) throws(VectorError) -> [[UInt8]] {
        var rng = try TranscriptSession.clientGenerator(seed: seed, index: index)
        return (0..<(sparse ? 4 : 3)).map { _ in rng.bytes(count: 32) }
    }

    /// The session id and the graph of a recorded session (SPEC.md §11.2): not sparse, the id from its
    /// KeysBroadcast (the key tree built from every entry); sparse, from the first KeyCommitment (count and key root)
    /// and the graph seed from the first Neighbourhood's reveal root.
    static func sessionGraph(_ configuration: SessionConfiguration, messages: [RecordedMessage]) -> (
        sessionId: [UInt8], graph: any CommunicationGraph
    )? {
        guard let sessionId = sessionId(configuration, messages: messages) else { return nil }
        let wire = WireFormat(configuration: configuration)
        var seed = [UInt8](repeating: 0, count: 32)
        if configuration.isSparse {
            let tags = [MessageTag.neighbourhood.rawValue, MessageTag.seedReveals.rawValue]
            guard
                let first = messages.first(where: { !$0.fromClient && $0.bytes.count > 1 && tags.contains($0.bytes[1]) }
                ),
                let message = try? wire.decodeServerMessage(first.bytes)
            else { return nil }
            switch message {
            case let .neighbourhood(_, _, revealRoot, _, _, _, _):
                seed = SessionTrees.graphSeed(sessionId: sessionId, revealRoot: revealRoot)
            case let .seedReveals(_, contributions):
                // Active model: the reveal tree from every contribution.
                let n = configuration.clientCount
                var byIndex: [UInt32: [UInt8]] = [:]
                for entry in contributions { byIndex[entry.index] = entry.contribution }
                let leaves = (1...n).flatMap {
                    SessionTrees.revealLeafHash(index: UInt32($0), contribution: byIndex[UInt32($0)])
                }
                guard let tree = try? MerkleTree(leafHashes: leaves, slotCount: n) else { return nil }
                seed = SessionTrees.graphSeed(sessionId: sessionId, revealRoot: tree.root)
            default:
                return nil
            }
        }
        guard let graph = try? configuration.makeGraph(graphSeed: seed) else { return nil }
        return (sessionId, graph)
    }

    /// The session id of a recorded session, recomputed from the bytes the clients received (SPEC.md §11.2):
    /// SHA-256("secagg/v3/session-id" ‖ configDigest ‖ LE32(count) ‖ keyRoot).
    static func sessionId(_ configuration: SessionConfiguration, messages: [RecordedMessage]) -> [UInt8]? {
        let wire = WireFormat(configuration: configuration)
        let semiHonestSparse = configuration.isSparse && configuration.securityModel != .active
        let tag = semiHonestSparse ? MessageTag.keyCommitment : .keysBroadcast
        guard
            let first = messages.first(where: { !$0.fromClient && $0.bytes.count > 1 && $0.bytes[1] == tag.rawValue }),
            let message = try? wire.decodeServerMessage(first.bytes)
        else { return nil }
        switch message {
        case let .keyCommitment(digest, count, keyRoot, _, _):
            return SessionTrees.sessionId(configurationDigest: digest, count: count, keyRoot: keyRoot)
        case let .keysBroadcast(digest, keys):
            // The key tree straight from the SPEC: one leaf per slot 1…n, present or absent.
            let n = configuration.clientCount
            let signed = configuration.securityModel == .active
            var leaves: [UInt8] = []
            for i in 1...n {
                leaves += SessionTrees.keyLeafHash(
                    index: UInt32(i),
                    entry: keys.entry(for: UInt32(i))?.entryBytes(signed: signed, committed: configuration.isSparse))
            }
            guard let tree = try? MerkleTree(leafHashes: leaves, slotCount: n) else { return nil }
            return SessionTrees.sessionId(configurationDigest: digest, count: keys.count, keyRoot: tree.root)
        default:
            return nil
        }
    }

    struct Generator: VectorGenerator {
        var scenario: Scenario
        var relativePath: String { scenario.relativePath }

        func generate() throws -> Data {
            let (setup, signingSeeds) = try TranscriptVectors.setup(for: scenario)
            let session = try TranscriptSession.run(setup)
            let configuration = setup.configuration
            let droppedLater = setup.behaviours.firstIndex(of: .dropsAfterMaskedInput).map { $0 + 1 } ?? 0
            guard let (sessionId, graph) = TranscriptVectors.sessionGraph(configuration, messages: session.messages)
            else { throw VectorError.malformedFile(file: relativePath, reason: "no key broadcast or seed reveals") }
            let wire = WireFormat(configuration: configuration)
            var clients: [ClientField] = []
            for u in 1...configuration.clientCount {
                let index = UInt32(u)
                let sparse = configuration.isSparse
                let secrets = try TranscriptVectors.clientSecrets(
                    seed: setup.clientSeeds[u - 1], index: index, sparse: sparse)
                // The recorded secrets must be the ones the engine used; an absent client sends nothing (its
                // recorded secrets are its generator's first draws all the same).
                let sent = session.messages.first(where: { $0.fromClient && $0.client == index })
                if setup.behaviours[u - 1] == .neverAdvertises {
                    guard sent == nil else {
                        throw VectorError.malformedFile(file: relativePath, reason: "client \(u) was to stay absent")
                    }
                } else {
                    guard let sent, case let .advertiseKeys(_, keys) = try wire.decodeClientMessage(sent.bytes),
                        try X25519.PrivateKey(rawRepresentation: SecretBytes(copying: secrets[0])).publicKey
                            == keys.encryptionKey,
                        try X25519.PrivateKey(rawRepresentation: SecretBytes(copying: secrets[1])).publicKey
                            == keys.maskingKey
                    else { throw VectorError.malformedFile(file: relativePath, reason: "client \(u): key draw order") }
                }
                clients.append(
                    ClientField(
                        index: index, behaviour: setup.behaviours[u - 1].rawValue,
                        rngLabel: scenario.clientLabel(u), rngSeed: Hex.encode(setup.clientSeeds[u - 1]),
                        input: TranscriptVectors.decimal(setup.inputs[u - 1]),
                        neighbours: graph.neighbours(of: index),
                        testOnlySecrets: Secrets(
                            encryptionPrivateKey: Hex.encode(secrets[0]), maskingPrivateKey: Hex.encode(secrets[1]),
                            seedContribution: sparse ? Hex.encode(secrets[2]) : nil,
                            selfMaskSeed: Hex.encode(secrets[sparse ? 3 : 2]),
                            signingKeySeed: signingSeeds.isEmpty ? nil : Hex.encode(signingSeeds[u - 1]))))
            }
            var tests: [Test] = [
                Test(
                    tcId: 1,
                    comment: "setup: the configuration decodes and re-encodes, its digest and the session id "
                        + "(from the recorded KeysBroadcast) match, the graph (seeded by the recorded SeedReveals on "
                        + "a sparse graph) gives the recorded neighbours, and "
                        + "the test-only secrets match the generators and the advertised keys",
                    kind: "setup", result: "valid")
            ]
            for message in session.messages {
                let type = MessageTag.typeName(of: message.bytes)
                let comment =
                    message.fromClient
                    ? "\(message.round): client \(message.client) → server, \(type)"
                    : "\(message.round): server → client \(message.client), \(type)"
                tests.append(
                    Test(
                        tcId: tests.count + 1, comment: comment, kind: "message", round: message.round.description,
                        direction: message.fromClient ? "clientToServer" : "serverToClient", client: message.client,
                        messageType: type, message: Hex.encode(message.bytes), result: "valid"))
            }
            tests.append(
                Test(
                    tcId: tests.count + 1, comment: "outcome: the aggregate and the included clients (U3)",
                    kind: "outcome", result: "valid"))
            let group = Group(
                scenario: scenario.title, securityModel: scenario.model.description,
                graph: scenario.graph.description, clientCount: scenario.clientCount, threshold: scenario.threshold,
                inputs: inputSpecifications.map {
                    InputField(name: $0.name, length: $0.length, modulus: TranscriptVectors.modulusText($0.modulus))
                },
                setupLabel: scenario.label, configuration: Hex.encode(configuration.encoded),
                configurationDigest: Hex.encode(configuration.digest), sessionId: Hex.encode(sessionId),
                clients: clients, aggregate: TranscriptVectors.decimal(session.result.vectors),
                includedClients: session.result.includedClients.map(\.rawValue), tests: tests)
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: TranscriptVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); Ed25519 seeds (active), "
                        + "the configuration nonce and the inputs drawn in that order from DeterministicRandomGenerator "
                        + "with seed SHA-256(setupLabel); client u draws all its randomness from "
                        + "DeterministicRandomGenerator with seed SHA-256(rngLabel) = rngSeed (SPEC.md §2.6)",
                    header: "Complete session (\(scenario.title)). Client \(scenario.dropsAfterShareKeys) drops "
                        + "after share keys: it sends its ShareKeys message but not its masked input (it is in U2, "
                        + "not U3; its pairwise masks are removed with its reconstructed s^SK). Client "
                        + "\(droppedLater) drops after masked input collection: it sends its "
                        + "masked input but nothing later (it is in U3 and its input is in the sum; its b_u is "
                        + "reconstructed from its neighbours' shares). "
                        + (scenario.neverAdvertises.map {
                            "Client \($0) never advertises: it sends nothing, the session id counts "
                                + "\(scenario.clientCount - 1) advertisers, it is an absent leaf of the key tree and of "
                                + "the ring tree, and its neighbours' Neighbourhoods carry an absent record for it. "
                        } ?? "")
                        + "Round 0: every client's AdvertiseKeys in "
                        + "index order; then for each round the server's messages in recipient order, followed "
                        + "by the replies in index order (a server message is labelled with the round it starts). "
                        + "testOnlySecrets are private values recorded only so that an independent implementation "
                        + "can re-derive masks and open share boxes; they never travel on the wire.",
                    testGroups: [group], testCount: tests.count))
        }
    }
}
