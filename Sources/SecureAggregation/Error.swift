public import SecAggCrypto

/// The protocol rounds, in order (SPEC.md §11).
///
/// The raw values order the rounds; they are not sent on the wire. SPEC.md numbers the rounds as Bonawitz et
/// al. do (0 AdvertiseKeys … 4 Unmasking) and calls the seed reveal of sparse graphs round 0′.
public enum ProtocolRound: UInt8, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Round 0: clients advertise their two X25519 public keys (and, on sparse graphs, a commitment to their
    /// contribution to the graph seed).
    case advertiseKeys = 0
    /// Round 0′ (sparse graphs only): clients reveal their graph-seed contributions once the advertised set is
    /// fixed; the ring order comes from all of them (SPEC.md §11.2).
    case seedReveal = 1
    /// Round 1: clients send encrypted Shamir shares to their neighbours (through the server).
    case shareKeys = 2
    /// Round 2: clients send their masked inputs.
    case maskedInputCollection = 3
    /// Round 3 (active model only): clients sign the set of clients whose masked input arrived.
    case consistencyCheck = 4
    /// Round 4: clients reveal shares so the server can remove the masks.
    case unmasking = 5

    /// The CLI spelling: advertise-keys, seed-reveal, share-keys, masked-input, consistency-check, unmasking.
    public var description: String {
        switch self {
        case .advertiseKeys: "advertise-keys"
        case .seedReveal: "seed-reveal"
        case .shareKeys: "share-keys"
        case .maskedInputCollection: "masked-input"
        case .consistencyCheck: "consistency-check"
        case .unmasking: "unmasking"
        }
    }
}

/// Which kind of secret a share belongs to.
public enum ShareKind: UInt8, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A share of the peer's mask-agreement private key s^SK (revealed for dropped peers).
    case maskingKey = 1
    /// A share of the peer's self-mask seed b (revealed for surviving peers).
    case selfMaskSeed = 2

    /// Human-readable name.
    public var description: String { self == .maskingKey ? "masking-key" : "self-mask-seed" }
}

/// Errors of the wire format: the bytes themselves are malformed. Never a trap.
public enum WireFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A count or length exceeds what the session configuration allows.
    case countOutOfRange(field: String, count: Int, maximum: Int)
    /// Indices in a list are not strictly ascending (duplicates or disorder).
    case duplicateOrUnorderedIndex(field: String, index: UInt32)
    /// A client index outside 1...n.
    case indexOutOfRange(field: String, index: UInt32, clientCount: Int)
    /// A field has an invalid value (enum code, padding bits, element ≥ modulus, UTF-8).
    case invalidField(field: String, reason: String)
    /// Bytes remain after the message.
    case trailingBytes(count: Int)
    /// The input ended early.
    case truncated(field: String, needed: Int, available: Int)
    /// An unknown message tag.
    case unknownTag(UInt8)
    /// A protocol version this implementation does not speak.
    case unsupportedVersion(UInt8, expected: UInt8)

    /// One line.
    public var description: String {
        switch self {
        case let .countOutOfRange(field, count, maximum): "\(field): count \(count) exceeds maximum \(maximum)"
        case let .duplicateOrUnorderedIndex(field, index): "\(field): index \(index) is duplicated or out of order"
        case let .indexOutOfRange(field, index, n): "\(field): client index \(index) is outside 1...\(n)"
        case let .invalidField(field, reason): "\(field): \(reason)"
        case let .trailingBytes(count): "\(count) trailing bytes after the message"
        case let .truncated(field, needed, available):
            "truncated at \(field): needed \(needed) bytes, \(available) left"
        case let .unknownTag(tag): "unknown message tag 0x\(String(tag, radix: 16))"
        case let .unsupportedVersion(v, expected): "unsupported protocol version \(v) (expected \(expected))"
        }
    }
}

/// Errors of the protocol engine. A thrown error never leaves a party in a corrupted state: either the
/// message was rejected and the party is unchanged, or the party aborted cleanly (``isFatal``).
public enum SecAggError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The party already aborted; no further messages are processed.
    case alreadyAborted(reason: String)
    /// The session finished; no further messages are processed.
    case alreadyCompleted
    /// A signature did not verify (active model).
    case badSignature(signer: UInt32, round: ProtocolRound)
    /// A share ciphertext failed authentication (tampered, reflected, swapped or from another session).
    case shareDecryptionFailed(sender: UInt32)
    /// The server asked for both the masking-key share and the self-mask share of one peer.
    case conflictingShareRequest(peer: UInt32)
    /// The configuration is invalid.
    case invalidConfiguration(reason: String)
    /// The client's input does not match the configuration.
    case invalidInput(reason: String)
    /// A server message contradicts what the client saw earlier (growing survivor list, unknown peer,
    /// a peer listed twice, a changed key...).
    case inconsistentServerMessage(reason: String)
    /// A client message's content is invalid for this session (wrong recipients, wrong sizes...).
    case invalidClientMessage(sender: UInt32, reason: String)
    /// Too few live clients remain at some round: the server needs t + 1 (every client needs t live neighbours),
    /// a client t live neighbours (t + 1 advertisers before round 0′).
    case insufficientClients(round: ProtocolRound, count: Int, required: Int)
    /// Active model, round 4 (SPEC.md §11.3 rule 3): fewer than t distinct neighbours in the signed survivor set
    /// signed it. Live survivors are not enough: only signers count.
    case insufficientSignatures(count: Int, required: Int)
    /// A secret needed for unmasking has fewer than t shares.
    case insufficientShares(owner: UInt32, kind: ShareKind, available: Int, threshold: Int)
    /// A message from a client that is not (or no longer) a participant of this round.
    case notParticipating(sender: UInt32, round: ProtocolRound)
    /// A second message from the same client in one round.
    case duplicateMessage(sender: UInt32, round: ProtocolRound)
    /// The message belongs to another session (session id or configuration digest differs).
    case wrongSession
    /// The message is for another round than the party's current one.
    case unexpectedMessage(expected: String, received: String)
    /// A wire-format error while decoding.
    case wire(WireFormatError)
    /// A primitive failed (never carries secret bytes).
    case crypto(SecAggCryptoError)
    /// The server could not verify the result (reconstruction produced inconsistent shares).
    case reconstructionFailed(owner: UInt32, kind: ShareKind)
    /// The server aborted the session, or removed this client from it (message received by a client).
    case serverAborted(code: AbortCode)
    /// The server's caller stopped the session (``SecAggServer/abort()``).
    case abortedByCaller
    /// The threshold does not protect privacy under the configuration's declared threat (SPEC.md §11.1):
    /// `requirement` states the rule with its numbers; `smallestSecureThreshold` is the least t that passes
    /// (nil: none up to the degree does).
    case insecureThreshold(threshold: Int, requirement: String, smallestSecureThreshold: Int?)
    /// Serving the configuration would need more memory than the configured limit (SPEC.md §11.8).
    case resourceLimitExceeded(resource: String, required: Int, limit: Int)
    /// The masking path did not reproduce its known answer (SPEC.md §11.7): a broken SIMD kernel or keystream
    /// backend, which would leave elements unmasked while the session still verified. Nothing is run.
    case selfTestFailed(component: String)
    /// Clients that advertised keys on a sparse graph did not reveal their graph-seed contribution; the
    /// session cannot go on without biasing the graph and must be restarted (SPEC.md §11.2).
    case missingSeedReveals(clients: [UInt32])

    /// One line.
    public var description: String {
        switch self {
        case let .alreadyAborted(reason): "already aborted: \(reason)"
        case .alreadyCompleted: "session already completed"
        case let .badSignature(signer, round): "bad signature from client \(signer) in \(round)"
        case let .shareDecryptionFailed(sender): "share ciphertext from client \(sender) failed authentication"
        case let .conflictingShareRequest(peer):
            "refused: the server asked for both the masking-key share and the self-mask share of client \(peer)"
        case let .invalidConfiguration(reason): "invalid configuration: \(reason)"
        case let .invalidInput(reason): "invalid input: \(reason)"
        case let .inconsistentServerMessage(reason): "inconsistent server message: \(reason)"
        case let .invalidClientMessage(sender, reason): "invalid message from client \(sender): \(reason)"
        case let .insufficientClients(round, count, required):
            "only \(count) live clients at \(round), \(required) required"
        case let .insufficientSignatures(count, required):
            "only \(count) neighbours signed the survivor set at unmasking, \(required) signatures required"
        case let .insufficientShares(owner, kind, available, threshold):
            "only \(available) \(kind) shares of client \(owner), threshold is \(threshold)"
        case let .notParticipating(sender, round): "client \(sender) is not a participant of \(round)"
        case let .duplicateMessage(sender, round): "duplicate message from client \(sender) in \(round)"
        case .wrongSession: "message belongs to another session"
        case let .unexpectedMessage(expected, received): "expected \(expected), received \(received)"
        case let .wire(error): "wire format: \(error)"
        case let .crypto(error): "crypto: \(error)"
        case let .reconstructionFailed(owner, kind): "reconstruction of the \(kind) of client \(owner) failed"
        case let .serverAborted(code): "the server aborted the session (\(code))"
        case .abortedByCaller: "the session was stopped by the server's caller"
        case let .insecureThreshold(threshold, requirement, smallest):
            "threshold \(threshold) does not protect privacy: \(requirement); "
                + (smallest.map { "t ≥ \($0) would pass" } ?? "no threshold up to the degree passes")
        case let .resourceLimitExceeded(resource, required, limit):
            "\(resource) needs \(required) bytes, more than the limit of \(limit) bytes"
        case let .selfTestFailed(component):
            "the \(component) failed its known-answer self-test; refusing to run (set SECAGG_PRG_BACKEND=libsodium "
                + "to use the portable path)"
        case let .missingSeedReveals(clients):
            "\(clients.count) clients (first: \(clients.prefix(8).map(String.init).joined(separator: ", "))) did not "
                + "reveal their graph-seed contribution; restart the session without them"
        }
    }

    /// True when the error aborted the party; false when only the message was rejected.
    public var isRejectionOnly: Bool {
        switch self {
        case .wire, .wrongSession, .unexpectedMessage, .duplicateMessage, .notParticipating,
            .invalidClientMessage, .alreadyAborted, .alreadyCompleted, .invalidInput:
            true
        default: false
        }
    }
}
