import SecAggCrypto
import SecureAggregation

/// One field of an encoded message: its name, its bytes and (for integers and sets) its value.
struct LayoutSegment: Codable, Sendable, Equatable {
    var field: String
    var bytes: String
    /// Decimal integer, or a comma-separated list of client indices; absent for opaque bytes.
    var value: String?
}

/// The field-by-field layout of a decoded message (SPEC.md §12), written here from the decoded values
/// with its own little-endian helpers, not with the engine's encoder: concatenated it must give the
/// message bytes again.
struct MessageLayout {
    let configuration: SessionConfiguration
    private(set) var segments: [LayoutSegment] = []

    init(configuration: SessionConfiguration) {
        self.configuration = configuration
    }

    private mutating func raw(_ field: String, _ bytes: [UInt8]) {
        segments.append(LayoutSegment(field: field, bytes: Hex.encode(bytes), value: nil))
    }

    private mutating func u8(_ field: String, _ value: UInt8) {
        segments.append(LayoutSegment(field: field, bytes: Hex.encode([value]), value: "\(value)"))
    }

    private mutating func u32(_ field: String, _ value: UInt32) {
        var bytes: [UInt8] = []
        appendLittleEndian(value, to: &bytes)
        segments.append(LayoutSegment(field: field, bytes: Hex.encode(bytes), value: "\(value)"))
    }

    private mutating func header(_ tag: MessageTag) {
        u8("version", SessionConfiguration.protocolVersion)
        u8("tag", tag.rawValue)
    }

    private mutating func keys(_ prefix: String, _ keys: AdvertisedKeys) {
        u32("\(prefix)index", keys.index)
        raw("\(prefix)encryptionKey", keys.encryptionKey.rawRepresentation)
        raw("\(prefix)maskingKey", keys.maskingKey.rawRepresentation)
        if configuration.isSparse { raw("\(prefix)seedCommitment", keys.seedCommitment) }
        if configuration.securityModel == .active { raw("\(prefix)signature", keys.signature) }
    }

    private mutating func shares(_ name: String, _ list: [EncryptedShare]) {
        u32("shareCount", UInt32(list.count))
        for (i, share) in list.enumerated() {
            u32("\(name)[\(i)]", share.peer)
            raw("ciphertext[\(i)]", share.ciphertext)
        }
    }

    /// The layout of a client message.
    static func segments(of message: ClientMessage, configuration: SessionConfiguration) -> [LayoutSegment] {
        var layout = MessageLayout(configuration: configuration)
        switch message {
        case let .advertiseKeys(digest, keys):
            layout.header(.advertiseKeys)
            layout.raw("configurationDigest", digest)
            layout.keys("", keys)
        case let .seedReveal(sessionId, sender, contribution):
            layout.header(.seedReveal)
            layout.raw("sessionId", sessionId)
            layout.u32("sender", sender)
            layout.raw("contribution", contribution)
        case let .shareKeys(sessionId, sender, commitment, shares):
            layout.header(.shareKeys)
            layout.raw("sessionId", sessionId)
            layout.u32("sender", sender)
            layout.raw("selfMaskCommitment", commitment)
            layout.shares("recipient", shares)
        case let .maskedInput(sessionId, sender, complaints, vectors):
            layout.header(.maskedInput)
            layout.raw("sessionId", sessionId)
            layout.u32("sender", sender)
            layout.u32("complaintCount", UInt32(complaints.count))
            for (i, complaint) in complaints.enumerated() {
                layout.u32("complaints[\(i)].sender", complaint.sender)
                layout.raw("complaints[\(i)].pairwiseMaskSeed", complaint.pairwiseMaskSeed.unsafeExportedBytes())
            }
            for (vector, spec) in zip(vectors, configuration.inputs) {
                layout.segments.append(
                    LayoutSegment(
                        field: "vector \(spec.name)", bytes: Hex.encode(pack(vector, modulus: spec.modulus)),
                        value: vector.map(String.init).joined(separator: ",")))
            }
        case let .consistencySignature(sessionId, sender, signature):
            layout.header(.consistencySignature)
            layout.raw("sessionId", sessionId)
            layout.u32("sender", sender)
            layout.raw("signature", signature)
        case let .unmaskingResponse(sessionId, sender, keyShares, seedShares):
            layout.header(.unmaskingResponse)
            layout.raw("sessionId", sessionId)
            layout.u32("sender", sender)
            for (name, list) in [("maskingKeyShares", keyShares), ("selfMaskShares", seedShares)] {
                layout.u32("\(name).count", UInt32(list.count))
                for (i, entry) in list.enumerated() {
                    layout.u32("\(name)[\(i)].owner", entry.owner)
                    layout.raw("\(name)[\(i)].share", entry.share.encoded())
                }
            }
        }
        return layout.segments
    }

    /// The layout of a server message.
    static func segments(of message: ServerMessage, configuration: SessionConfiguration) -> [LayoutSegment] {
        var layout = MessageLayout(configuration: configuration)
        switch message {
        case let .keysBroadcast(digest, keys):
            layout.header(.keysBroadcast)
            layout.raw("configurationDigest", digest)
            layout.u32("keyCount", UInt32(keys.count))
            for (i, entry) in keys.entries.enumerated() { layout.keys("keys[\(i)].", entry) }
        case let .seedReveals(sessionId, contributions):
            layout.header(.seedReveals)
            layout.raw("sessionId", sessionId)
            layout.u32("contributionCount", UInt32(contributions.count))
            for (i, entry) in contributions.enumerated() {
                layout.u32("contributions[\(i)].index", entry.index)
                layout.raw("contributions[\(i)].contribution", entry.contribution)
            }
        case let .keyCommitment(digest, count, keyRoot, keys, proof):
            layout.header(.keyCommitment)
            layout.raw("configurationDigest", digest)
            layout.u32("keyCount", UInt32(count))
            layout.raw("keyRoot", keyRoot)
            layout.keys("keys.", keys)
            layout.raw("proof", proof)
        case let .neighbourhood(sessionId, recipient, revealRoot, proof, ringRoot, neighbours, multiproof):
            layout.header(.neighbourhood)
            layout.raw("sessionId", sessionId)
            layout.u32("recipient", recipient)
            layout.raw("revealRoot", revealRoot)
            layout.raw("proof", proof)
            layout.raw("ringRoot", ringRoot)
            layout.u32("neighbourCount", UInt32(neighbours.count))
            for (i, record) in neighbours.enumerated() {
                layout.u32("neighbours[\(i)].index", record.index)
                layout.u8("neighbours[\(i)].present", record.keys == nil ? 0 : 1)
                if let keys = record.keys {
                    layout.raw("neighbours[\(i)].encryptionKey", keys.encryptionKey.rawRepresentation)
                    layout.raw("neighbours[\(i)].maskingKey", keys.maskingKey.rawRepresentation)
                    layout.raw("neighbours[\(i)].seedCommitment", keys.seedCommitment)
                    if !keys.signature.isEmpty { layout.raw("neighbours[\(i)].signature", keys.signature) }
                }
            }
            layout.u32("multiproofCount", UInt32(multiproof.count / 32))
            layout.raw("multiproof", multiproof)
        case let .sharesForward(sessionId, recipient, shares):
            layout.header(.sharesForward)
            layout.raw("sessionId", sessionId)
            layout.u32("recipient", recipient)
            layout.shares("sender", shares)
        case let .consistencyRequest(sessionId, survivors):
            layout.header(.consistencyRequest)
            layout.raw("sessionId", sessionId)
            layout.segments.append(
                LayoutSegment(
                    field: "survivors",
                    bytes: Hex.encode(bitmap(Array(survivors), clientCount: configuration.clientCount)),
                    value: survivors.map(String.init).joined(separator: ",")))
        case let .unmaskingRequest(sessionId, recipient, dropped, survivors, signatures):
            layout.header(.unmaskingRequest)
            layout.raw("sessionId", sessionId)
            layout.u32("recipient", recipient)
            for (name, list) in [("dropped", dropped), ("survivors", survivors)] {
                layout.u32("\(name).count", UInt32(list.count))
                for (i, index) in list.enumerated() { layout.u32("\(name)[\(i)]", index) }
            }
            layout.u32("signatures.count", UInt32(signatures.count))
            for (i, entry) in signatures.enumerated() {
                layout.u32("signatures[\(i)].signer", entry.signer)
                layout.raw("signatures[\(i)].signature", entry.signature)
            }
        case let .abort(binding, code):
            layout.header(.abort)
            layout.raw("binding", binding)
            layout.u8("code", code.rawValue)
        case let .sessionComplete(sessionId, recipient, included):
            layout.header(.sessionComplete)
            layout.raw("sessionId", sessionId)
            layout.u32("recipient", recipient)
            layout.u8("included", included ? 1 : 0)
        }
        return layout.segments
    }

    /// SPEC.md §8 bit packing: element i at bits i·w … i·w + w − 1 of the little-endian byte string.
    static func pack(_ elements: [UInt64], modulus: RingModulus) -> [UInt8] {
        let width = modulus.elementBitWidth
        var out = [UInt8](repeating: 0, count: (elements.count * width + 7) / 8)
        for (i, element) in elements.enumerated() {
            for bit in 0..<width where (element >> UInt64(bit)) & 1 == 1 {
                let position = i * width + bit
                out[position / 8] |= 1 << UInt8(position % 8)
            }
        }
        return out
    }

    /// SPEC.md §12 client set: bit i − 1 set for member i.
    static func bitmap(_ members: [UInt32], clientCount: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (clientCount + 7) / 8)
        for m in members where m >= 1 && Int(m) <= clientCount {
            out[Int(m - 1) / 8] |= 1 << UInt8((m - 1) % 8)
        }
        return out
    }
}
