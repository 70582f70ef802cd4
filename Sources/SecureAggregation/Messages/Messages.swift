public import SecAggCrypto

/// Size of a share ciphertext: XChaCha20-Poly1305 nonce, two encoded Shamir shares of 32-byte secrets,
/// and the tag (SPEC.md §11.3).
public let shareCiphertextByteCount = Aead.nonceByteCount + 2 * shareByteCount + Aead.tagByteCount
/// Size of one encoded Shamir share of a 32-byte secret.
public let shareByteCount = ShamirShare.encodedByteCount(secretByteCount: 32)

/// A client's round-0 advertisement (also an entry of the server's key broadcast).
public struct AdvertisedKeys: Sendable, Hashable {
    /// The client index.
    public var index: UInt32
    /// c^PK: the X25519 key for share encryption.
    public var encryptionKey: X25519.PublicKey
    /// s^PK: the X25519 key for pairwise masks.
    public var maskingKey: X25519.PublicKey
    /// Sparse graphs: the commitment to the client's graph-seed contribution
    /// (``SeedContribution/commitment(configurationDigest:index:contribution:)``); empty otherwise.
    public var seedCommitment: [UInt8]
    /// Active model: Ed25519 signature over ``signedBytes(configurationDigest:)``; empty otherwise.
    public var signature: [UInt8]

    /// Creates an entry.
    public init(
        index: UInt32, encryptionKey: X25519.PublicKey, maskingKey: X25519.PublicKey, seedCommitment: [UInt8] = [],
        signature: [UInt8]
    ) {
        self.index = index
        self.encryptionKey = encryptionKey
        self.maskingKey = maskingKey
        self.seedCommitment = seedCommitment
        self.signature = signature
    }

    /// "secagg/v1/advertise" || configDigest || LE32(index) || c^PK || s^PK [|| seedCommitment].
    public func signedBytes(configurationDigest: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.write(raw: Array("secagg/v1/advertise".utf8))
        w.write(raw: configurationDigest)
        w.write(index)
        w.write(raw: encryptionKey.rawRepresentation)
        w.write(raw: maskingKey.rawRepresentation)
        w.write(raw: seedCommitment)
        return w.bytes
    }
}

/// A client's contribution to the graph seed of a sparse graph, revealed in round 0′ (SPEC.md §11.2).
public struct SeedContribution: Sendable, Hashable {
    /// Bytes of a contribution and of its commitment.
    public static let byteCount = 32
    /// The client.
    public var index: UInt32
    /// The 32 random bytes the client committed to in round 0.
    public var contribution: [UInt8]

    /// Creates an entry.
    public init(index: UInt32, contribution: [UInt8]) {
        self.index = index
        self.contribution = contribution
    }

    /// The first 64 bytes every commitment of a session hashes — one SHA-256 block, so a client checking all n
    /// commitments hashes it once and then one block per commitment: "secagg/v1/seed-commitment" padded with
    /// zero bytes to 32, then configDigest (SPEC.md §11.2).
    static func commitmentBlock(configurationDigest: [UInt8]) -> [UInt8] {
        var label = Array("secagg/v1/seed-commitment".utf8)
        label += [UInt8](repeating: 0, count: 32 - label.count)
        return label + configurationDigest
    }

    /// SHA-256(pad32("secagg/v1/seed-commitment") || configDigest || LE32(index) || contribution).
    public static func commitment(configurationDigest: [UInt8], index: UInt32, contribution: [UInt8]) -> [UInt8] {
        var h = Sha256Hasher()
        h.update(commitmentBlock(configurationDigest: configurationDigest))
        var indexBytes: [UInt8] = []
        appendLittleEndian(index, to: &indexBytes)
        h.update(indexBytes)
        h.update(contribution)
        return h.finalize()
    }
}

/// The graph seed of a complete graph, which ignores it: 32 zero bytes.
let unusedGraphSeed = [UInt8](repeating: 0, count: 32)

/// A client's report that the share ciphertext forwarded from `sender` did not open (or held malformed
/// shares): the client leaves `sender` out of its masks and discloses their pairwise mask seed, so the server
/// can remove the mask that `sender` added (SPEC.md §11.3 round 2).
public struct ShareComplaint: Sendable, Equatable {
    /// The client whose ciphertext failed.
    public var sender: UInt32
    /// s_{u,sender} (§3), disclosed for this one pair only.
    public var pairwiseMaskSeed: SecretBytes

    /// Creates an entry.
    public init(sender: UInt32, pairwiseMaskSeed: SecretBytes) {
        self.sender = sender
        self.pairwiseMaskSeed = pairwiseMaskSeed
    }
}

/// SHA-256("secagg/v1/self-mask-commitment" || sessionId || LE32(owner) || b): the commitment a client
/// sends with its shares so the server can check the self-mask seed it reconstructs (SPEC.md §11.3 round 1).
public func selfMaskCommitment(sessionId: [UInt8], owner: UInt32, seed: SecretBytes) -> [UInt8] {
    var h = Sha256Hasher()
    h.update(Array("secagg/v1/self-mask-commitment".utf8))
    h.update(sessionId)
    var indexBytes: [UInt8] = []
    appendLittleEndian(owner, to: &indexBytes)
    h.update(indexBytes)
    seed.withUnsafeBytes { h.update(Array($0)) }
    return h.finalize()
}

/// An encrypted share pair travelling between two clients through the server.
public struct EncryptedShare: Sendable, Hashable {
    /// The other client: the recipient in a ``ClientMessage/shareKeys``, the sender in a
    /// ``ServerMessage/sharesForward``.
    public var peer: UInt32
    /// nonce || ciphertext || tag, ``shareCiphertextByteCount`` bytes.
    public var ciphertext: [UInt8]

    /// Creates an entry.
    public init(peer: UInt32, ciphertext: [UInt8]) {
        self.peer = peer
        self.ciphertext = ciphertext
    }
}

/// A share revealed in the unmasking round.
public struct RevealedShare: Sendable, Equatable {
    /// Whose secret the share belongs to.
    public var owner: UInt32
    /// The share (x = the revealing client's index).
    public var share: ShamirShare

    /// Creates an entry.
    public init(owner: UInt32, share: ShamirShare) {
        self.owner = owner
        self.share = share
    }
}

/// A client's Ed25519 signature in the consistency check, as relayed by the server.
public struct ConsistencySignatureEntry: Sendable, Hashable {
    /// The signer.
    public var signer: UInt32
    /// 64 bytes over ``ConsistencyCheck/signedBytes(sessionId:signer:survivors:)``.
    public var signature: [UInt8]

    /// Creates an entry.
    public init(signer: UInt32, signature: [UInt8]) {
        self.signer = signer
        self.signature = signature
    }
}

/// The bytes signed in the consistency check.
public enum ConsistencyCheck {
    /// "secagg/v1/consistency" || sessionId || LE32(signer) || bitmap(U3).
    public static func signedBytes(sessionId: [UInt8], signer: UInt32, survivors: ClientSet) -> [UInt8] {
        var w = ByteWriter()
        w.write(raw: Array("secagg/v1/consistency".utf8))
        w.write(raw: sessionId)
        w.write(signer)
        w.write(raw: survivors.bitmap)
        return w.bytes
    }
}

/// Messages a client sends to the server.
public enum ClientMessage: Sendable, Equatable {
    /// Round 0.
    case advertiseKeys(configurationDigest: [UInt8], keys: AdvertisedKeys)
    /// Round 0′ (sparse graphs): the contribution committed to in round 0.
    case seedReveal(sessionId: [UInt8], sender: UInt32, contribution: [UInt8])
    /// Round 1: the commitment to the self-mask seed and one ciphertext per neighbour that advertised keys,
    /// ascending by recipient.
    case shareKeys(sessionId: [UInt8], sender: UInt32, selfMaskCommitment: [UInt8], shares: [EncryptedShare])
    /// Round 2: complaints about share ciphertexts that did not open (ascending by sender), and the masked
    /// input, one vector per configured input, each reduced into its ring.
    case maskedInput(sessionId: [UInt8], sender: UInt32, complaints: [ShareComplaint], vectors: [[UInt64]])
    /// Round 3 (active model).
    case consistencySignature(sessionId: [UInt8], sender: UInt32, signature: [UInt8])
    /// Round 4: masking-key shares of dropped neighbours and self-mask shares of surviving ones.
    case unmaskingResponse(
        sessionId: [UInt8], sender: UInt32, maskingKeyShares: [RevealedShare], selfMaskShares: [RevealedShare])

    /// The sending client.
    public var sender: UInt32 {
        switch self {
        case let .advertiseKeys(_, keys): keys.index
        case let .seedReveal(_, sender, _), let .shareKeys(_, sender, _, _), let .maskedInput(_, sender, _, _),
            let .consistencySignature(_, sender, _), let .unmaskingResponse(_, sender, _, _):
            sender
        }
    }

    /// The round this message answers.
    public var round: ProtocolRound {
        switch self {
        case .advertiseKeys: .advertiseKeys
        case .seedReveal: .seedReveal
        case .shareKeys: .shareKeys
        case .maskedInput: .maskedInputCollection
        case .consistencySignature: .consistencyCheck
        case .unmaskingResponse: .unmasking
        }
    }
}

/// Messages the server sends to clients.
public enum ServerMessage: Sendable, Equatable {
    /// Every advertisement received in round 0, ascending by index (the same for all clients): starts round 1 on
    /// configurations that are not sparse, and round 0′ on sparse graphs in the active model (SPEC.md §11.2).
    case keysBroadcast(configurationDigest: [UInt8], keys: KeyBroadcast)
    /// Starts round 1 on sparse graphs in the active model: every revealed contribution, ascending by index, so that
    /// each client checks every one against its commitment and builds the reveal tree itself (SPEC.md §11.2).
    case seedReveals(sessionId: [UInt8], contributions: [SeedContribution])
    /// Starts round 0′ on sparse graphs: the number of advertisements, the root of the key tree (which fixes the
    /// session id) and the recipient's own entry with its proof (SPEC.md §11.2).
    case keyCommitment(configurationDigest: [UInt8], count: Int, keyRoot: [UInt8], keys: AdvertisedKeys, proof: [UInt8])
    /// Starts round 1 on sparse graphs in the semi-honest model: the root of the reveal tree (which fixes the graph
    /// seed), the proof of the recipient's own contribution, the root of the ring tree, one record per neighbour,
    /// ascending, and the multiproof of the recipient's window in the ring tree (SPEC.md §11.2).
    case neighbourhood(
        sessionId: [UInt8], recipient: UInt32, revealRoot: [UInt8], proof: [UInt8], ringRoot: [UInt8],
        neighbours: [NeighbourRecord], multiproof: [UInt8])
    /// Starts round 2: the ciphertexts addressed to `recipient`, ascending by sender.
    case sharesForward(sessionId: [UInt8], recipient: UInt32, shares: [EncryptedShare])
    /// Starts round 3 (active model): the set U3 of clients whose masked input arrived.
    case consistencyRequest(sessionId: [UInt8], survivors: ClientSet)
    /// Starts round 4: the recipient's dropped and surviving neighbours, plus (active model) the consistency
    /// signatures of its neighbours.
    case unmaskingRequest(
        sessionId: [UInt8], recipient: UInt32, dropped: [UInt32], survivors: [UInt32],
        signatures: [ConsistencySignatureEntry])
    /// The session completed: `included` tells the recipient whether its input is in the sum (it is in U3). Sent
    /// after unmasking to every client that advertised keys, so that a client knows the aggregation succeeded and
    /// whether its input counted (SPEC.md §11.3).
    case sessionComplete(sessionId: [UInt8], recipient: UInt32, included: Bool)
    /// The server gave up (or removed the recipient); `binding` is the session id, or the configuration digest
    /// before round 0 closed.
    case abort(binding: [UInt8], code: AbortCode)

    /// The round this message starts in a session of `configuration`: as ``round``, except that a key broadcast
    /// starts round 0′ on a sparse graph (active model) and round 1 otherwise.
    public func round(in configuration: SessionConfiguration) -> ProtocolRound? {
        if case .keysBroadcast = self, configuration.isSparse { return .seedReveal }
        return round
    }

    /// The round this message starts (nil for the end-of-session message and aborts; a key broadcast is named by
    /// round 1, see ``round(in:)``).
    public var round: ProtocolRound? {
        switch self {
        case .keysBroadcast: .shareKeys
        case .keyCommitment: .seedReveal
        case .neighbourhood, .seedReveals: .shareKeys
        case .sharesForward: .maskedInputCollection
        case .consistencyRequest: .consistencyCheck
        case .unmaskingRequest: .unmasking
        case .sessionComplete, .abort: nil
        }
    }
}

/// Reasons the server gives in an abort message (SPEC.md §12.3). Open: a code this version does not name still
/// decodes (and re-encodes) as itself, and a client treats it as ``other``.
public struct AbortCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The byte on the wire.
    public let rawValue: UInt8

    /// The code `rawValue`.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Too few clients remained.
    public static let insufficientClients = AbortCode(rawValue: 1)
    /// Reconstruction failed.
    public static let reconstructionFailed = AbortCode(rawValue: 2)
    /// A client did not reveal its graph-seed contribution: restart without it.
    public static let missingSeedReveals = AbortCode(rawValue: 3)
    /// The server removed this client from the session (``SecAggServer/abortClient(_:)``); the session may go on
    /// without it.
    public static let clientExcluded = AbortCode(rawValue: 4)
    /// Any other reason (the server's operator stopped the session, …).
    public static let other = AbortCode(rawValue: 255)

    /// The name, or the number for a code this version does not name.
    public var description: String {
        switch rawValue {
        case 1: "insufficient-clients"
        case 2: "reconstruction-failed"
        case 3: "missing-seed-reveals"
        case 4: "client-excluded"
        case 255: "other"
        default: "code \(rawValue)"
        }
    }
}

/// A set of client indices, encoded as a bitmap over 1...n: bit i − 1 of the bitmap (byte (i − 1) / 8,
/// bit (i − 1) mod 8, least significant first) is set when client i is in the set (SPEC.md §12.2).
public struct ClientSet: Sendable, Hashable, Sequence {
    /// n.
    public let clientCount: Int
    private var bits: [UInt8]

    /// An empty set over 1...n.
    public init(clientCount: Int) {
        self.clientCount = clientCount
        bits = [UInt8](repeating: 0, count: (clientCount + 7) / 8)
    }

    /// A set with the given members (each must be in 1...n).
    public init(clientCount: Int, members: some Sequence<UInt32>) {
        self.init(clientCount: clientCount)
        for m in members { insert(m) }
    }

    /// Decodes a bitmap; padding bits must be zero.
    public init(clientCount: Int, bitmap: [UInt8]) throws(WireFormatError) {
        guard bitmap.count == (clientCount + 7) / 8 else {
            throw .invalidField(field: "bitmap", reason: "length \(bitmap.count) for \(clientCount) clients")
        }
        if clientCount % 8 != 0, let last = bitmap.last, last >> UInt8(clientCount % 8) != 0 {
            throw .invalidField(field: "bitmap", reason: "nonzero padding bits")
        }
        self.clientCount = clientCount
        bits = bitmap
    }

    /// The encoded bitmap.
    public var bitmap: [UInt8] { bits }

    /// True when `index` is a member.
    public func contains(_ index: UInt32) -> Bool {
        guard index >= 1, Int(index) <= clientCount else { return false }
        let i = Int(index - 1)
        return bits[i >> 3] & (1 << UInt8(i & 7)) != 0
    }

    /// Adds `index` (ignored when outside 1...n).
    public mutating func insert(_ index: UInt32) {
        guard index >= 1, Int(index) <= clientCount else { return }
        let i = Int(index - 1)
        bits[i >> 3] |= 1 << UInt8(i & 7)
    }

    /// Removes `index`.
    public mutating func remove(_ index: UInt32) {
        guard index >= 1, Int(index) <= clientCount else { return }
        let i = Int(index - 1)
        bits[i >> 3] &= ~(1 << UInt8(i & 7))
    }

    /// The number of members.
    public var count: Int { bits.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Members in ascending order.
    public func makeIterator() -> IndexingIterator<[UInt32]> {
        var members: [UInt32] = []
        for (byteIndex, byte) in bits.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 {
                members.append(UInt32(byteIndex * 8 + bit + 1))
            }
        }
        return members.makeIterator()
    }

    /// Every client 1...n.
    package static func all(clientCount: Int) -> ClientSet {
        var set = ClientSet(clientCount: clientCount)
        for i in 0..<set.bits.count { set.bits[i] = 0xFF }
        if clientCount % 8 != 0, !set.bits.isEmpty {
            set.bits[set.bits.count - 1] = UInt8((1 << (clientCount % 8)) - 1)
        }
        return set
    }

    /// The members of `self` that are not in `other` (same n).
    package func subtracting(_ other: ClientSet) -> ClientSet {
        var out = self
        for i in out.bits.indices where i < other.bits.count { out.bits[i] &= ~other.bits[i] }
        return out
    }

    /// True when there is no member.
    package var isEmpty: Bool { bits.allSatisfy { $0 == 0 } }

    /// True when every member of `self` is in `other`.
    public func isSubset(of other: ClientSet) -> Bool {
        guard clientCount == other.clientCount else { return false }
        return zip(bits, other.bits).allSatisfy { $0 & ~$1 == 0 }
    }
}
