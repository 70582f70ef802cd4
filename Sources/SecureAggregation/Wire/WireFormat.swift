import SecAggCrypto

/// Message tags (SPEC.md §12.3). Client messages have the high bit clear, server messages set.
public enum MessageTag: UInt8, Sendable, CaseIterable {
    /// Round 0, client → server.
    case advertiseKeys = 0x01
    /// Round 1, client → server.
    case shareKeys = 0x02
    /// Round 2, client → server.
    case maskedInput = 0x03
    /// Round 3, client → server.
    case consistencySignature = 0x04
    /// Round 4, client → server.
    case unmaskingResponse = 0x05
    /// Round 0′ (sparse graphs), client → server.
    case seedReveal = 0x06
    /// Server → clients, starts round 1 on configurations that are not sparse, round 0′ on sparse graphs in the
    /// active model.
    case keysBroadcast = 0x81
    /// Server → client, starts round 2.
    case sharesForward = 0x82
    /// Server → clients, starts round 3.
    case consistencyRequest = 0x83
    /// Server → client, starts round 4.
    case unmaskingRequest = 0x84
    /// Server → client, starts round 1 on sparse graphs in the semi-honest model (the neighbours' keys and
    /// contributions with proofs).
    case neighbourhood = 0x86
    /// Server → client, the session completed.
    case sessionComplete = 0x87
    /// Server → client, starts round 0′ on sparse graphs in the semi-honest model (the key tree's root and the
    /// recipient's own proof).
    case keyCommitment = 0x88
    /// Server → clients, starts round 1 on sparse graphs in the active model (every revealed contribution).
    case seedReveals = 0x89
    /// Server → client, the session is over.
    case abort = 0x8F
}

/// Encodes and decodes messages for one session. Every size limit comes from the configuration.
public struct WireFormat: Sendable {
    /// The session configuration (limits, vector shapes, security model).
    public let configuration: SessionConfiguration
    private let bindingByteCount = 32

    /// A codec for `configuration` (assumed validated).
    public init(configuration: SessionConfiguration) {
        self.configuration = configuration
    }

    private var n: Int { configuration.clientCount }
    private var hasSignatures: Bool { configuration.securityModel == .active }
    private var hasSeedCommitments: Bool { configuration.isSparse }
    private let seedByteCount = SeedContribution.byteCount
    /// Bytes of one key-list entry (index included).
    private var keyEntryByteCount: Int {
        KeyBroadcast.entryByteCount(signed: hasSignatures, committed: hasSeedCommitments)
    }
    /// Bytes of a Merkle proof over the n client slots: ⌈log2 n⌉ · 32 (SPEC.md §2.7).
    private var proofByteCount: Int { MerkleTree.depth(slotCount: n) * MerkleTree.digestByteCount }

    private func header(_ tag: MessageTag, capacity: Int = 64) -> ByteWriter {
        var w = ByteWriter(capacity: capacity)
        w.write(SessionConfiguration.protocolVersion)
        w.write(tag.rawValue)
        return w
    }

    // MARK: Encoding

    /// The bytes of a client message.
    public func encode(_ message: ClientMessage) throws(SecAggError) -> [UInt8] {
        switch message {
        case let .advertiseKeys(digest, keys):
            var w = header(.advertiseKeys)
            w.write(raw: digest)
            writeKeys(keys, to: &w)
            return w.bytes
        case let .seedReveal(sessionId, sender, contribution):
            var w = header(.seedReveal)
            w.write(raw: sessionId)
            w.write(sender)
            w.write(raw: contribution)
            return w.bytes
        case let .shareKeys(sessionId, sender, commitment, shares):
            var w = header(.shareKeys, capacity: 78 + shares.count * (4 + shareCiphertextByteCount))
            w.write(raw: sessionId)
            w.write(sender)
            w.write(raw: commitment)
            writeShareBoxes(shares.lazy.map { ($0.peer, $0.ciphertext) }, to: &w)
            return w.bytes
        case let .maskedInput(sessionId, sender, complaints, vectors):
            var w = header(.maskedInput, capacity: 46 + complaints.count * 36 + configuration.maskedInputByteCount)
            w.write(raw: sessionId)
            w.write(sender)
            w.write(UInt32(complaints.count))
            for complaint in complaints {
                w.write(complaint.sender)
                complaint.pairwiseMaskSeed.withUnsafeBytes { w.write(raw: $0) }
            }
            guard vectors.count == configuration.inputs.count else {
                throw .invalidInput(reason: "\(vectors.count) vectors for \(configuration.inputs.count) inputs")
            }
            for (vector, spec) in zip(vectors, configuration.inputs) {
                guard vector.count == spec.length else {
                    throw .invalidInput(reason: "\(spec.name): \(vector.count) elements, expected \(spec.length)")
                }
                do {
                    try w.append { (bytes: inout [UInt8]) throws(BitPackingError) in
                        try BitPacking.pack(vector, modulus: spec.modulus, into: &bytes)
                    }
                } catch {
                    throw .invalidInput(reason: "\(spec.name): element outside \(spec.modulus)")
                }
            }
            return w.bytes
        case let .consistencySignature(sessionId, sender, signature):
            var w = header(.consistencySignature)
            w.write(raw: sessionId)
            w.write(sender)
            w.write(raw: signature)
            return w.bytes
        case let .unmaskingResponse(sessionId, sender, keyShares, selfShares):
            var w = header(.unmaskingResponse, capacity: 46 + (keyShares.count + selfShares.count) * 48)
            w.write(raw: sessionId)
            w.write(sender)
            for list in [keyShares, selfShares] {
                w.write(UInt32(list.count))
                for entry in list {
                    w.write(entry.owner)
                    w.write(raw: entry.share.encoded())
                }
            }
            return w.bytes
        }
    }

    /// The bytes of a server message.
    public func encode(_ message: ServerMessage) -> [UInt8] {
        switch message {
        case let .keysBroadcast(digest, keys):
            var w = header(.keysBroadcast, capacity: 38 + keys.count * keys.entryByteCount)
            w.write(raw: digest)
            w.write(UInt32(keys.count))
            keys.withEntryBytes { w.write(raw: $0) }
            return w.bytes
        case let .seedReveals(sessionId, contributions):
            var w = header(.seedReveals, capacity: 38 + contributions.count * 36)
            w.write(raw: sessionId)
            w.write(UInt32(contributions.count))
            for entry in contributions {
                w.write(entry.index)
                w.write(raw: entry.contribution)
            }
            return w.bytes
        case let .keyCommitment(digest, count, keyRoot, keys, proof):
            var w = header(.keyCommitment, capacity: 72 + keyEntryByteCount + proof.count)
            w.write(raw: digest)
            w.write(UInt32(truncatingIfNeeded: count))
            w.write(raw: keyRoot)
            writeKeys(keys, to: &w)
            w.write(raw: proof)
            return w.bytes
        case let .neighbourhood(sessionId, recipient, revealRoot, proof, ringRoot, neighbours, multiproof):
            let recordBytes = 1 + keyEntryByteCount
            var w = header(
                .neighbourhood, capacity: 114 + proof.count + neighbours.count * recordBytes + multiproof.count)
            w.write(raw: sessionId)
            w.write(recipient)
            w.write(raw: revealRoot)
            w.write(raw: proof)
            w.write(raw: ringRoot)
            w.write(UInt32(neighbours.count))
            for record in neighbours {
                w.write(record.index)
                if let keys = record.keys {
                    w.write(UInt8(1))
                    writeKeyFields(keys, to: &w)
                } else {
                    w.write(UInt8(0))
                }
            }
            w.write(UInt32(multiproof.count / MerkleTree.digestByteCount))
            w.write(raw: multiproof)
            return w.bytes
        case let .sharesForward(sessionId, recipient, shares):
            return encodeSharesForward(
                sessionId: sessionId, recipient: recipient, capacity: shares.count,
                boxes: shares.lazy.map { ($0.peer, $0.ciphertext) })
        case let .consistencyRequest(sessionId, survivors):
            var w = header(.consistencyRequest)
            w.write(raw: sessionId)
            w.write(raw: survivors.bitmap)
            return w.bytes
        case let .unmaskingRequest(sessionId, recipient, dropped, survivors, signatures):
            var w = header(.unmaskingRequest)
            w.write(raw: sessionId)
            w.write(recipient)
            for list in [dropped, survivors] {
                w.write(UInt32(list.count))
                for i in list { w.write(i) }
            }
            w.write(UInt32(signatures.count))
            for s in signatures {
                w.write(s.signer)
                w.write(raw: s.signature)
            }
            return w.bytes
        case let .sessionComplete(sessionId, recipient, included):
            var w = header(.sessionComplete)
            w.write(raw: sessionId)
            w.write(recipient)
            w.write(UInt8(included ? 1 : 0))
            return w.bytes
        case let .abort(binding, code):
            var w = header(.abort)
            w.write(raw: binding)
            w.write(code.rawValue)
            return w.bytes
        }
    }

    /// A SharesForward from (sender, ciphertext) boxes: the typed message's encoding, and the server's straight
    /// from the buffers it received. `capacity` is the expected number of boxes (room reserved, nothing more).
    package func encodeSharesForward<Ciphertext: Collection<UInt8>>(
        sessionId: [UInt8], recipient: UInt32, capacity: Int,
        boxes: some Sequence<(peer: UInt32, ciphertext: Ciphertext)>
    ) -> [UInt8] {
        var w = header(.sharesForward, capacity: 42 + capacity * (4 + shareCiphertextByteCount))
        w.write(raw: sessionId)
        w.write(recipient)
        writeShareBoxes(boxes, to: &w)
        return w.bytes
    }

    /// LE32 count || count × (LE32 peer || box), the list shared by ShareKeys and SharesForward (the count is
    /// written once the boxes are).
    private func writeShareBoxes<Ciphertext: Collection<UInt8>>(
        _ boxes: some Sequence<(peer: UInt32, ciphertext: Ciphertext)>, to w: inout ByteWriter
    ) {
        let countOffset = w.bytes.count
        w.write(UInt32(0))
        var count: UInt32 = 0
        for (peer, ciphertext) in boxes {
            w.write(peer)
            w.write(raw: ciphertext)
            count += 1
        }
        w.overwrite(count, at: countOffset)
    }

    private func writeKeys(_ keys: AdvertisedKeys, to w: inout ByteWriter) {
        w.write(keys.index)
        writeKeyFields(keys, to: &w)
    }

    /// An entry's fields after its index: c^PK ‖ s^PK [‖ commitment] [‖ signature].
    private func writeKeyFields(_ keys: AdvertisedKeys, to w: inout ByteWriter) {
        w.write(raw: keys.encryptionKey.rawRepresentation)
        w.write(raw: keys.maskingKey.rawRepresentation)
        if hasSeedCommitments { w.write(raw: keys.seedCommitment) }
        if hasSignatures { w.write(raw: keys.signature) }
    }

    // MARK: Decoding

    private func readHeader(_ r: inout ByteReader) throws(WireFormatError) -> MessageTag {
        let version = try r.read(UInt8.self, field: "version")
        guard version == SessionConfiguration.protocolVersion else {
            throw .unsupportedVersion(version, expected: SessionConfiguration.protocolVersion)
        }
        let tagByte = try r.read(UInt8.self, field: "tag")
        guard let tag = MessageTag(rawValue: tagByte) else { throw .unknownTag(tagByte) }
        return tag
    }

    private func readKeys(_ r: inout ByteReader) throws(WireFormatError) -> AdvertisedKeys {
        try readKeyFields(index: r.readIndex(field: "index", clientCount: n), &r)
    }

    /// An entry's fields after its index (``writeKeyFields(_:to:)``).
    private func readKeyFields(index: UInt32, _ r: inout ByteReader) throws(WireFormatError) -> AdvertisedKeys {
        let c = try r.read(count: X25519.keyByteCount, field: "encryptionKey")
        let s = try r.read(count: X25519.keyByteCount, field: "maskingKey")
        let commitment = hasSeedCommitments ? try r.read(count: seedByteCount, field: "seedCommitment") : []
        let signature = hasSignatures ? try r.read(count: Ed25519.signatureByteCount, field: "signature") : []
        // Lengths are exact here, so the key initialisers cannot fail.
        guard let ck = try? X25519.PublicKey(rawRepresentation: c), let sk = try? X25519.PublicKey(rawRepresentation: s)
        else { throw .invalidField(field: "publicKey", reason: "bad length") }
        return AdvertisedKeys(
            index: index, encryptionKey: ck, maskingKey: sk, seedCommitment: commitment, signature: signature)
    }

    /// Every list of the wire format (SPEC.md §12.1): a LE32 count, checked against `maximum` before anything
    /// is allocated (`reserve` then gets it), then `count` entries, each a client index (1...n, strictly
    /// ascending) followed by what `entry` reads.
    private func readIndexedEntries(
        _ r: inout ByteReader, countField: String, indexField: String, maximum: Int, reserve: (Int) -> Void,
        _ entry: (UInt32, inout ByteReader) throws(WireFormatError) -> Void
    ) throws(WireFormatError) {
        let count = try r.readCount(field: countField, maximum: maximum)
        reserve(count)
        var previous: UInt32 = 0
        for _ in 0..<count {
            let index = try r.readIndex(field: indexField, clientCount: n)
            guard index > previous else { throw .duplicateOrUnorderedIndex(field: indexField, index: index) }
            previous = index
            try entry(index, &r)
        }
    }

    /// An indexed list (``readIndexedEntries(_:countField:indexField:maximum:reserve:_:)``), one value per entry.
    private func readIndexedList<T>(
        _ r: inout ByteReader, countField: String, indexField: String, maximum: Int,
        _ entry: (UInt32, inout ByteReader) throws(WireFormatError) -> T
    ) throws(WireFormatError) -> [T] {
        var out: [T] = []
        try readIndexedEntries(
            &r, countField: countField, indexField: indexField, maximum: maximum, reserve: { out.reserveCapacity($0) }
        ) { (index, r) throws(WireFormatError) in out.append(try entry(index, &r)) }
        return out
    }

    /// LE32 count ‖ count × (LE32 peer ‖ ciphertext), peers strictly ascending, into one buffer.
    private func readShareBoxes(_ r: inout ByteReader) throws(WireFormatError) -> ShareBoxes {
        var boxes = ShareBoxes()
        try readIndexedEntries(
            &r, countField: "shareCount", indexField: "peer", maximum: configuration.degree,
            reserve: { boxes = ShareBoxes(capacity: $0) }
        ) { (peer, r) throws(WireFormatError) in
            boxes.append(peer: peer, ciphertext: try r.readSlice(count: shareCiphertextByteCount, field: "ciphertext"))
        }
        return boxes
    }

    /// Decodes a client message, enforcing every limit of the configuration.
    public func decodeClientMessage(_ bytes: [UInt8]) throws(SecAggError) -> ClientMessage {
        switch try decodeClientPayload(bytes) {
        case let .message(message): message
        case let .shareKeys(body):
            .shareKeys(
                sessionId: body.sessionId, sender: body.sender, selfMaskCommitment: body.selfMaskCommitment,
                shares: body.boxes.shares)
        }
    }

    /// ``decodeClientMessage(_:)`` for the server: a ShareKeys message keeps its ciphertexts in one buffer.
    package func decodeClientPayload(_ bytes: [UInt8]) throws(SecAggError) -> ClientPayload {
        do throws(WireFormatError) {
            var r = ByteReader(bytes)
            let message: ClientMessage
            switch try readHeader(&r) {
            case .advertiseKeys:
                let digest = try r.read(count: bindingByteCount, field: "configurationDigest")
                message = .advertiseKeys(configurationDigest: digest, keys: try readKeys(&r))
            case .seedReveal:
                guard hasSeedCommitments else {
                    throw .invalidField(field: "tag", reason: "seed reveal in a session without a sparse graph")
                }
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let sender = try r.readIndex(field: "sender", clientCount: n)
                let contribution = try r.read(count: seedByteCount, field: "contribution")
                message = .seedReveal(sessionId: sessionId, sender: sender, contribution: contribution)
            case .shareKeys:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let sender = try r.readIndex(field: "sender", clientCount: n)
                let commitment = try r.read(count: seedByteCount, field: "selfMaskCommitment")
                let boxes = try readShareBoxes(&r)
                try r.finish()
                return .shareKeys(
                    ShareKeysBody(sessionId: sessionId, sender: sender, selfMaskCommitment: commitment, boxes: boxes))
            case .maskedInput:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let sender = try r.readIndex(field: "sender", clientCount: n)
                let complaints = try readIndexedList(
                    &r, countField: "complaintCount", indexField: "complaint", maximum: configuration.degree
                ) { (peer, r) throws(WireFormatError) in
                    let seed = try r.read(count: seedByteCount, field: "pairwiseMaskSeed")
                    return ShareComplaint(sender: peer, pairwiseMaskSeed: SecretBytes(copying: seed))
                }
                var vectors: [[UInt64]] = []
                for spec in configuration.inputs {
                    let byteCount = BitPacking.packedByteCount(count: spec.length, modulus: spec.modulus)
                    let slice = try r.readSlice(count: byteCount, field: "vector \(spec.name)")
                    do {
                        vectors.append(try BitPacking.unpack(slice, count: spec.length, modulus: spec.modulus))
                    } catch {
                        throw .invalidField(field: "vector \(spec.name)", reason: "\(error)")
                    }
                }
                message = .maskedInput(sessionId: sessionId, sender: sender, complaints: complaints, vectors: vectors)
            case .consistencySignature:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let sender = try r.readIndex(field: "sender", clientCount: n)
                let signature = try r.read(count: Ed25519.signatureByteCount, field: "signature")
                message = .consistencySignature(sessionId: sessionId, sender: sender, signature: signature)
            case .unmaskingResponse:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let sender = try r.readIndex(field: "sender", clientCount: n)
                var lists: [[RevealedShare]] = []
                for field in ["maskingKeyShares", "selfMaskShares"] {
                    // Checked entry by entry in byte order; the values of one list then share one zeroised
                    // allocation instead of one each.
                    let entries = try readIndexedList(
                        &r, countField: field, indexField: field, maximum: configuration.degree
                    ) { (owner, r) throws(WireFormatError) in
                        let shareBytes = try r.readSlice(count: shareByteCount, field: field)
                        guard let x = ShamirShare.validatedIndex(encoded: shareBytes, secretByteCount: 32) else {
                            throw .invalidField(field: field, reason: "share index 0 or value outside the field")
                        }
                        return (owner: owner, x: x, values: shareBytes.dropFirst(4))
                    }
                    let values = SecretBytes.packed(entries.map(\.values))
                    lists.append(
                        zip(entries, values).map { entry, values in
                            RevealedShare(owner: entry.owner, share: ShamirShare(validX: entry.x, values: values))
                        })
                }
                message = .unmaskingResponse(
                    sessionId: sessionId, sender: sender, maskingKeyShares: lists[0], selfMaskShares: lists[1])
            case let tag:
                throw .invalidField(
                    field: "tag", reason: "server message tag 0x\(String(tag.rawValue, radix: 16)) sent by a client")
            }
            try r.finish()
            return .message(message)
        } catch {
            throw .wire(error)
        }
    }

    /// Decodes a server message, enforcing every limit of the configuration.
    public func decodeServerMessage(_ bytes: [UInt8]) throws(SecAggError) -> ServerMessage {
        do throws(WireFormatError) {
            var r = ByteReader(bytes)
            let message: ServerMessage
            switch try readHeader(&r) {
            case .keysBroadcast:
                guard !hasSeedCommitments || hasSignatures else {
                    throw .invalidField(
                        field: "tag", reason: "key broadcast in a semi-honest session with a sparse graph")
                }
                let digest = try r.read(count: bindingByteCount, field: "configurationDigest")
                let count = try r.readCount(field: "keyCount", maximum: n)
                let size = KeyBroadcast.entryByteCount(signed: hasSignatures, committed: hasSeedCommitments)
                let entries = try r.readSlice(count: count * size, field: "keys")
                message = .keysBroadcast(
                    configurationDigest: digest,
                    keys: try KeyBroadcast(
                        validating: entries, signed: hasSignatures, committed: hasSeedCommitments, clientCount: n))
            case .keyCommitment:
                guard hasSeedCommitments, !hasSignatures else {
                    throw .invalidField(
                        field: "tag", reason: "key commitment outside a semi-honest session with a sparse graph")
                }
                let digest = try r.read(count: bindingByteCount, field: "configurationDigest")
                let count = try r.readCount(field: "keyCount", maximum: n)
                let keyRoot = try r.read(count: bindingByteCount, field: "keyRoot")
                let keys = try readKeys(&r)
                let proof = try r.read(count: proofByteCount, field: "proof")
                message = .keyCommitment(
                    configurationDigest: digest, count: count, keyRoot: keyRoot, keys: keys, proof: proof)
            case .neighbourhood:
                guard hasSeedCommitments, !hasSignatures else {
                    throw .invalidField(
                        field: "tag", reason: "neighbourhood outside a semi-honest session with a sparse graph")
                }
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let recipient = try r.readIndex(field: "recipient", clientCount: n)
                let revealRoot = try r.read(count: bindingByteCount, field: "revealRoot")
                let proof = try r.read(count: proofByteCount, field: "proof")
                let ringRoot = try r.read(count: bindingByteCount, field: "ringRoot")
                let neighbours = try readIndexedList(
                    &r, countField: "neighbourCount", indexField: "neighbour", maximum: configuration.degree
                ) { (index, r) throws(WireFormatError) in
                    let present = try r.read(UInt8.self, field: "present")
                    switch present {
                    case 0: return NeighbourRecord(index: index, keys: nil)
                    case 1: return NeighbourRecord(index: index, keys: try readKeyFields(index: index, &r))
                    default: throw .invalidField(field: "present", reason: "\(present) is neither 0 nor 1")
                    }
                }
                // A window is at most two runs of slots: at most 4L values (SPEC.md §2.7, §12.4).
                let maximumValues = 4 * MerkleTree.depth(slotCount: n)
                let valueCount = Int(try r.read(UInt32.self, field: "multiproofCount"))
                guard valueCount <= maximumValues else {
                    throw .countOutOfRange(field: "multiproofCount", count: valueCount, maximum: maximumValues)
                }
                let multiproof = try r.read(count: valueCount * MerkleTree.digestByteCount, field: "multiproof")
                message = .neighbourhood(
                    sessionId: sessionId, recipient: recipient, revealRoot: revealRoot, proof: proof,
                    ringRoot: ringRoot, neighbours: neighbours, multiproof: multiproof)
            case .seedReveals:
                guard hasSeedCommitments, hasSignatures else {
                    throw .invalidField(
                        field: "tag", reason: "seed reveals outside an active-model session with a sparse graph")
                }
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let contributions = try readIndexedList(
                    &r, countField: "contributionCount", indexField: "contribution", maximum: n
                ) { (index, r) throws(WireFormatError) in
                    SeedContribution(
                        index: index, contribution: try r.read(count: seedByteCount, field: "contribution"))
                }
                message = .seedReveals(sessionId: sessionId, contributions: contributions)
            case .sharesForward:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let recipient = try r.readIndex(field: "recipient", clientCount: n)
                message = .sharesForward(
                    sessionId: sessionId, recipient: recipient, shares: try readShareBoxes(&r).shares)
            case .consistencyRequest:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let bitmap = try r.read(count: (n + 7) / 8, field: "survivors")
                message = .consistencyRequest(
                    sessionId: sessionId, survivors: try ClientSet(clientCount: n, bitmap: bitmap))
            case .unmaskingRequest:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let recipient = try r.readIndex(field: "recipient", clientCount: n)
                let degree = configuration.degree
                let dropped = try readIndexedList(&r, countField: "dropped", indexField: "dropped", maximum: degree) {
                    (index, _) throws(WireFormatError) in index
                }
                let survivors = try readIndexedList(
                    &r, countField: "survivors", indexField: "survivors", maximum: degree
                ) { (index, _) throws(WireFormatError) in index }
                let signatures = try readIndexedList(
                    &r, countField: "signatureCount", indexField: "signer", maximum: hasSignatures ? degree : 0
                ) { (signer, r) throws(WireFormatError) in
                    ConsistencySignatureEntry(
                        signer: signer, signature: try r.read(count: Ed25519.signatureByteCount, field: "signature"))
                }
                message = .unmaskingRequest(
                    sessionId: sessionId, recipient: recipient, dropped: dropped, survivors: survivors,
                    signatures: signatures)
            case .abort:
                let binding = try r.read(count: bindingByteCount, field: "binding")
                message = .abort(binding: binding, code: AbortCode(rawValue: try r.read(UInt8.self, field: "code")))
            case .sessionComplete:
                let sessionId = try r.read(count: bindingByteCount, field: "sessionId")
                let recipient = try r.readIndex(field: "recipient", clientCount: n)
                let flag = try r.read(UInt8.self, field: "included")
                guard flag <= 1 else { throw .invalidField(field: "included", reason: "\(flag) is neither 0 nor 1") }
                message = .sessionComplete(sessionId: sessionId, recipient: recipient, included: flag == 1)
            case let tag:
                throw .invalidField(
                    field: "tag", reason: "client message tag 0x\(String(tag.rawValue, radix: 16)) sent by the server")
            }
            try r.finish()
            return message
        } catch {
            throw .wire(error)
        }
    }
}
