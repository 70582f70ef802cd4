public import SecAggCrypto
public import SecAggGraph

/// The threat model a session is run under (SPEC.md §11.1).
public enum SecurityModel: UInt8, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Honest-but-curious server and clients: no signatures, no consistency check.
    case semiHonest = 0
    /// Active adversary: signed keys (a PKI of Ed25519 verification keys in the configuration) and the
    /// consistency-check round, so the server cannot show different clients different survivor sets.
    case active = 1

    /// "semi-honest" or "active".
    public var description: String { self == .semiHonest ? "semi-honest" : "active" }
}

/// One named input vector: its length and ring.
public struct InputSpecification: Hashable, Sendable, Codable {
    /// A name unique in the session (1...255 UTF-8 bytes).
    public var name: String
    /// The element count.
    public var length: Int
    /// The ring of the elements.
    public var modulus: RingModulus

    /// Creates a specification.
    public init(name: String, length: Int, modulus: RingModulus) {
        self.name = name
        self.length = length
        self.modulus = modulus
    }
}

/// Who shares keys and masks with whom.
public enum GraphSpecification: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Every client is a neighbour of every other (Bonawitz et al. 2017).
    case complete
    /// A random Harary graph H(n, k) of even degree k (SecAgg+, Bell et al. 2020), arranged by a
    /// permutation derived from the session id.
    case harary(degree: Int)

    /// "complete" or "harary(k=…)".
    public var description: String {
        switch self {
        case .complete: "complete"
        case let .harary(degree): "harary(k=\(degree))"
        }
    }
}

/// The threat a configuration is declared to withstand (SPEC.md §11.1): how many clients may be corrupt
/// (colluding with the server) and how many may drop out, and the privacy parameter σ of the sparse-graph
/// bounds. The engine refuses a threshold that does not protect privacy under it.
public struct ThreatAssumption: Hashable, Sendable, Codable, CustomStringConvertible {
    /// C: clients that may be corrupt, 0 ≤ C < n.
    public var corruptClients: Int
    /// D: clients that may drop out, 0 ≤ D < n (enters only the disconnection bound of sparse graphs).
    public var droppedClients: Int
    /// σ: on a sparse graph privacy may fail with probability at most 2^−σ per session (1 ≤ σ ≤ 1000).
    public var sigma: Int

    /// No corrupt or dropped client assumed, σ = 40: the minimum rules (t ≥ 2; 2t > k in the active model).
    public static let minimal = ThreatAssumption(corruptClients: 0, droppedClients: 0, sigma: 40)

    /// Creates an assumption.
    public init(corruptClients: Int, droppedClients: Int, sigma: Int = 40) {
        self.corruptClients = corruptClients
        self.droppedClients = droppedClients
        self.sigma = sigma
    }

    /// "C = 3 corrupt, D = 5 dropped, σ = 40".
    public var description: String { "C = \(corruptClients) corrupt, D = \(droppedClients) dropped, σ = \(sigma)" }
}

/// Everything the parties agree on before round 0 (SPEC.md §11.1). Its digest binds every message of
/// round 0; the session id (digest plus round-0 transcript) binds every later one.
public struct SessionConfiguration: Hashable, Sendable {
    /// The protocol version this implementation speaks.
    public static let protocolVersion: UInt8 = 3
    /// The largest cohort the encoding allows.
    public static let maximumClientCount = 1 << 24
    /// The largest number of named vectors.
    public static let maximumInputCount = 256
    /// The largest element count of one vector.
    public static let maximumVectorLength = 1 << 31
    /// Size of the session nonce.
    public static let nonceByteCount = 32

    /// Number of clients n; clients are indexed 1...n.
    public var clientCount: Int
    /// Shamir threshold t: shares are dealt to a client's neighbours, any t of them reconstruct, and every
    /// client needs at least t live neighbours at every round.
    public var threshold: Int
    /// Semi-honest or active.
    public var securityModel: SecurityModel
    /// The threat the threshold must withstand; ``validate()`` refuses a threshold that does not.
    public var threat: ThreatAssumption
    /// The named vectors each client contributes, in order.
    public var inputs: [InputSpecification]
    /// The neighbourhood structure.
    public var graph: GraphSpecification
    /// A fresh random value per session so that two sessions never share a digest.
    public var nonce: [UInt8]
    /// Active model only: client i's Ed25519 verification key at position i − 1 (the PKI).
    public var verificationKeys: [Ed25519.PublicKey]

    /// Creates a configuration; call ``validate()`` before use (the engine does).
    public init(
        clientCount: Int, threshold: Int, securityModel: SecurityModel = .semiHonest, inputs: [InputSpecification],
        graph: GraphSpecification = .complete, threat: ThreatAssumption = .minimal, nonce: [UInt8],
        verificationKeys: [Ed25519.PublicKey] = []
    ) {
        self.clientCount = clientCount
        self.threshold = threshold
        self.securityModel = securityModel
        self.threat = threat
        self.inputs = inputs
        self.graph = graph
        self.nonce = nonce
        self.verificationKeys = verificationKeys
    }

    /// The number of neighbours every client has: n − 1 (complete) or k (Harary).
    public var degree: Int {
        switch graph {
        case .complete: clientCount - 1
        case let .harary(k): min(k, clientCount - 1)
        }
    }

    /// True for a Harary graph sparser than the complete graph: its ring order comes from a seed that every
    /// client helps to draw (commit in round 0, reveal in round 0′, SPEC.md §11.2).
    public var isSparse: Bool {
        if case let .harary(k) = graph { return k < clientCount - 1 }
        return false
    }

    /// The rounds of a session with this configuration, in order: round 0′ only on sparse graphs, the
    /// consistency check only in the active model.
    public var rounds: [ProtocolRound] {
        ProtocolRound.allCases.filter {
            ($0 != .seedReveal || isSparse) && ($0 != .consistencyCheck || securityModel == .active)
        }
    }

    /// The round after `round` in this session (nil after unmasking).
    public func round(after round: ProtocolRound) -> ProtocolRound? {
        rounds.first { $0.rawValue > round.rawValue }
    }

    /// The privacy requirement of this configuration's threshold under its declared threat (SPEC.md §11.1).
    public func privacyRequirement() throws(SecAggError) -> PrivacyRequirement {
        do {
            return try PrivacyRequirement(
                clientCount: clientCount, degree: degree, threshold: threshold,
                corruptClients: threat.corruptClients, droppedClients: threat.droppedClients,
                model: securityModel == .active ? .active : .semiHonest, sigma: threat.sigma)
        } catch {
            throw .invalidConfiguration(reason: "threat assumption: \(error)")
        }
    }

    /// Checks every field and limit, and that the threshold protects privacy under ``threat`` (SPEC.md §11.1).
    /// Everything that comes from outside passes through here; clients and the server call it before use.
    public func validate() throws(SecAggError) {
        guard clientCount >= 2, clientCount <= Self.maximumClientCount else {
            throw .invalidConfiguration(reason: "client count \(clientCount) outside 2...\(Self.maximumClientCount)")
        }
        if case let .harary(k) = graph {
            guard k >= 2, k % 2 == 0 else {
                throw .invalidConfiguration(reason: "Harary degree \(k) must be even and at least 2")
            }
        }
        guard threshold >= 1, threshold <= degree else {
            throw .invalidConfiguration(
                reason: "threshold \(threshold) outside 1...\(degree) (the number of neighbours of each client)")
        }
        guard (0..<clientCount).contains(threat.corruptClients) else {
            throw .invalidConfiguration(
                reason: "assumed corrupt clients \(threat.corruptClients) outside 0...\(clientCount - 1)")
        }
        guard (0..<clientCount).contains(threat.droppedClients) else {
            throw .invalidConfiguration(
                reason: "assumed dropouts \(threat.droppedClients) outside 0...\(clientCount - 1)")
        }
        guard (1...1000).contains(threat.sigma) else {
            throw .invalidConfiguration(reason: "privacy parameter σ = \(threat.sigma) outside 1...1000")
        }
        guard nonce.count == Self.nonceByteCount else {
            throw .invalidConfiguration(reason: "nonce must be \(Self.nonceByteCount) bytes")
        }
        guard !inputs.isEmpty, inputs.count <= Self.maximumInputCount else {
            throw .invalidConfiguration(reason: "1...\(Self.maximumInputCount) input vectors required")
        }
        var names = Set<String>()
        for input in inputs {
            let nameBytes = input.name.utf8.count
            guard nameBytes >= 1, nameBytes <= 255 else {
                throw .invalidConfiguration(reason: "input name must be 1...255 UTF-8 bytes")
            }
            guard names.insert(input.name).inserted else {
                throw .invalidConfiguration(reason: "duplicate input name \(input.name)")
            }
            do {
                try input.modulus.validate()
            } catch {
                throw .invalidConfiguration(reason: "input \(input.name): \(error)")
            }
            let maximum = min(Self.maximumVectorLength, MaskPrg.maximumElementCount(for: input.modulus))
            guard input.length >= 1, input.length <= maximum else {
                throw .invalidConfiguration(
                    reason: "input \(input.name): length \(input.length) outside 1...\(maximum)")
            }
        }
        switch securityModel {
        case .semiHonest:
            guard verificationKeys.isEmpty else {
                throw .invalidConfiguration(reason: "verification keys are only used in the active model")
            }
        case .active:
            guard verificationKeys.count == clientCount else {
                throw .invalidConfiguration(
                    reason: "active model needs \(clientCount) verification keys, got \(verificationKeys.count)")
            }
        }
        let requirement = try privacyRequirement()
        guard requirement.isMet else {
            throw .insecureThreshold(
                threshold: threshold, requirement: requirement.rule,
                smallestSecureThreshold: requirement.smallestPassingThreshold)
        }
    }

    /// The canonical encoding (SPEC.md §11.1).
    public var encoded: [UInt8] {
        var w = ByteWriter()
        w.write(Self.protocolVersion)
        w.write(UInt32(clientCount))
        w.write(UInt32(threshold))
        w.write(securityModel.rawValue)
        switch graph {
        case .complete:
            w.write(UInt8(0))
            w.write(UInt32(0))
        case let .harary(k):
            w.write(UInt8(1))
            w.write(UInt32(truncatingIfNeeded: k))
        }
        w.write(UInt32(truncatingIfNeeded: threat.corruptClients))
        w.write(UInt32(truncatingIfNeeded: threat.droppedClients))
        w.write(UInt32(truncatingIfNeeded: threat.sigma))
        w.write(raw: nonce)
        w.write(UInt32(inputs.count))
        for input in inputs {
            let name = Array(input.name.utf8)
            w.write(UInt8(truncatingIfNeeded: name.count))
            w.write(raw: name)
            w.write(UInt64(input.length))
            switch input.modulus {
            case let .powerOfTwo(bitWidth):
                w.write(UInt8(0))
                w.write(UInt64(bitWidth))
            case let .integer(q):
                w.write(UInt8(1))
                w.write(q)
            }
        }
        w.write(UInt32(verificationKeys.count))
        for key in verificationKeys { w.write(raw: key.rawRepresentation) }
        return w.bytes
    }

    /// Decodes and validates a configuration.
    public init(encoded bytes: [UInt8]) throws(SecAggError) {
        do {
            var r = ByteReader(bytes)
            let version = try r.read(UInt8.self, field: "version")
            guard version == Self.protocolVersion else {
                throw WireFormatError.unsupportedVersion(version, expected: Self.protocolVersion)
            }
            let n = Int(try r.read(UInt32.self, field: "clientCount"))
            let t = Int(try r.read(UInt32.self, field: "threshold"))
            let modelCode = try r.read(UInt8.self, field: "securityModel")
            guard let model = SecurityModel(rawValue: modelCode) else {
                throw WireFormatError.invalidField(field: "securityModel", reason: "unknown code \(modelCode)")
            }
            let graphCode = try r.read(UInt8.self, field: "graphKind")
            let degree = Int(try r.read(UInt32.self, field: "graphDegree"))
            let graph: GraphSpecification
            switch graphCode {
            case 0:
                guard degree == 0 else { throw WireFormatError.invalidField(field: "graphDegree", reason: "must be 0") }
                graph = .complete
            case 1: graph = .harary(degree: degree)
            default: throw WireFormatError.invalidField(field: "graphKind", reason: "unknown code \(graphCode)")
            }
            let threat = ThreatAssumption(
                corruptClients: Int(try r.read(UInt32.self, field: "corruptClients")),
                droppedClients: Int(try r.read(UInt32.self, field: "droppedClients")),
                sigma: Int(try r.read(UInt32.self, field: "sigma")))
            let nonce = try r.read(count: Self.nonceByteCount, field: "nonce")
            let inputCount = try r.readCount(field: "inputCount", maximum: Self.maximumInputCount)
            var inputs: [InputSpecification] = []
            for _ in 0..<inputCount {
                let nameCount = Int(try r.read(UInt8.self, field: "nameByteCount"))
                let nameBytes = try r.read(count: nameCount, field: "name")
                guard let name = String(validating: nameBytes, as: UTF8.self) else {
                    throw WireFormatError.invalidField(field: "name", reason: "not UTF-8")
                }
                let length = try r.read(UInt64.self, field: "length")
                guard length <= UInt64(Self.maximumVectorLength) else {
                    throw WireFormatError.countOutOfRange(
                        field: "length", count: Int(clamping: length), maximum: Self.maximumVectorLength)
                }
                let kind = try r.read(UInt8.self, field: "modulusKind")
                let value = try r.read(UInt64.self, field: "modulus")
                let modulus: RingModulus
                switch kind {
                case 0:
                    guard value <= 64 else { throw WireFormatError.invalidField(field: "modulus", reason: "bit width") }
                    modulus = .powerOfTwo(bitWidth: Int(value))
                case 1: modulus = .integer(value)
                default: throw WireFormatError.invalidField(field: "modulusKind", reason: "unknown code \(kind)")
                }
                inputs.append(InputSpecification(name: name, length: Int(length), modulus: modulus))
            }
            let keyCount = try r.readCount(field: "verificationKeyCount", maximum: min(n, Self.maximumClientCount))
            var keys: [Ed25519.PublicKey] = []
            for _ in 0..<keyCount {
                keys.append(try Ed25519.PublicKey(rawRepresentation: r.read(count: 32, field: "verificationKey")))
            }
            try r.finish()
            self.init(
                clientCount: n, threshold: t, securityModel: model, inputs: inputs, graph: graph, threat: threat,
                nonce: nonce, verificationKeys: keys)
        } catch let error as WireFormatError {
            throw .wire(error)
        } catch let error as SecAggCryptoError {
            throw .crypto(error)
        } catch {
            throw .invalidConfiguration(reason: "\(error)")
        }
        try validate()
    }

    /// Two configurations are equal when their canonical encodings are (so equal configurations have equal
    /// digests; `String ==` would also equate input names that differ in bytes but not after Unicode
    /// normalisation).
    public static func == (lhs: SessionConfiguration, rhs: SessionConfiguration) -> Bool {
        lhs.encoded == rhs.encoded
    }

    /// Hashes the canonical encoding.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(encoded)
    }

    /// SHA-256("secagg/v1/config" || encoded): binds round-0 messages to this configuration.
    public var digest: [UInt8] {
        var h = Sha256Hasher()
        h.update(Array("secagg/v1/config".utf8))
        h.update(encoded)
        return h.finalize()
    }

    /// The total packed byte count of one client's masked input (all vectors).
    public var maskedInputByteCount: Int {
        inputs.reduce(0) { $0 + BitPacking.packedByteCount(count: $1.length, modulus: $1.modulus) }
    }

    /// The neighbourhood graph of a session: a ``CompleteGraph`` or a ``HararyGraph``. `graphSeed` (32 bytes) is
    /// ``SessionTrees/graphSeed(sessionId:revealRoot:)`` (SPEC.md §11.2); the complete graph ignores it, and so does a
    /// Harary graph of degree k ≥ n − 1 (which is complete). `.table` stores the ring (what the server needs: every
    /// client's neighbours); `.pointwise` evaluates it at the points asked (a client: its own k neighbours, no O(n)
    /// memory, SPEC.md §10.2).
    public func makeGraph(graphSeed: [UInt8], evaluation: HararyGraph.Evaluation = .table) throws(SecAggError)
        -> any CommunicationGraph
    {
        do {
            switch graph {
            case .complete:
                return CompleteGraph(clientCount: clientCount)
            case let .harary(k):
                return try HararyGraph(clientCount: clientCount, degree: k, seed: graphSeed, evaluation: evaluation)
            }
        } catch {
            throw .invalidConfiguration(reason: "graph: \(error)")
        }
    }
}
