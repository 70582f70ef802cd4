import SecAggCrypto
import SecureAggregation
import Testing

/// One test per protocol defence that mutation testing found unguarded (issue 11 item 6; the mutants are in
/// `Tests/Mutation/mutants.tsv`). Each builds the one situation only that defence catches.
@Suite("every defence has a test that fails without it")
struct DefenceTests {
    /// Active model, n = 6, t = 4; client 6 shares keys but sends no masked input, so U3 = {1…5}. The harness
    /// stops with the unmasking requests pending.
    private static func activeAtUnmasking(label: String) throws -> Harness {
        var h = try Harness(n: 6, t: 4, model: .active, label: label)
        try h.run(until: .unmasking, skip: [.maskedInputCollection: [6]])
        return h
    }

    private static func request(_ h: Harness, to client: UInt32) throws -> (
        sid: [UInt8], dropped: [UInt32], survivors: [UInt32], signatures: [ConsistencySignatureEntry]
    ) {
        let message = try #require(h.pending.first { $0.recipient == client }?.message)
        guard case let .unmaskingRequest(sid, _, dropped, survivors, signatures) = message else {
            throw SecAggError.unexpectedMessage(expected: "unmasking request", received: "\(message)")
        }
        return (sid, dropped, survivors, signatures)
    }

    // MARK: Active client

    /// A survivor the client did not sign as one (client 6 sent no masked input) is refused, although every
    /// other check passes: the lists are disjoint, cover S_u, and the signatures are valid.
    @Test func activeClientRefusesASurvivorOutsideTheSetItSigned() throws {
        var h = try Self.activeAtUnmasking(label: "defence signed survivor")
        let r = try Self.request(h, to: 1)
        #expect(r.dropped == [6])
        #expect(throws: SecAggError.inconsistentServerMessage(reason: "survivor 6 was not in the signed survivor set"))
        {
            _ = try h.clients[1]!.handle(
                .unmaskingRequest(
                    sessionId: r.sid, recipient: 1, dropped: [], survivors: (r.survivors + [6]).sorted(),
                    signatures: r.signatures))
        }
    }

    @Test func activeClientVerifiesTheForwardedConsistencySignatures() throws {
        var h = try Self.activeAtUnmasking(label: "defence forwarded signatures")
        let r = try Self.request(h, to: 1)
        var forged = r.signatures
        forged[0].signature[10] ^= 0x01
        #expect(throws: SecAggError.badSignature(signer: forged[0].signer, round: .consistencyCheck)) {
            _ = try h.clients[1]!.handle(
                .unmaskingRequest(
                    sessionId: r.sid, recipient: 1, dropped: r.dropped, survivors: r.survivors, signatures: forged))
        }
    }

    @Test func activeClientNeedsAtLeastTSignatures() throws {
        var h = try Self.activeAtUnmasking(label: "defence signature count")
        let r = try Self.request(h, to: 1)
        #expect(r.signatures.count == 4)
        #expect(throws: SecAggError.insufficientSignatures(count: 3, required: 4)) {
            _ = try h.clients[1]!.handle(
                .unmaskingRequest(
                    sessionId: r.sid, recipient: 1, dropped: r.dropped, survivors: r.survivors,
                    signatures: Array(r.signatures.prefix(3))))
        }
    }

    // MARK: Any client

    /// The stronger form of the both-shares test: peer p is listed as dropped and as a survivor while another
    /// peer q is left out, so the count of listed peers still equals the count held; only the disjointness rule
    /// stops the client revealing both shares of p.
    @Test func clientRefusesBothSharesOfOnePeerEvenWhenTheCountsAgree() throws {
        var h = try Harness(n: 6, t: 3, label: "defence both shares")
        try h.run(until: .unmasking)
        let r = try Self.request(h, to: 1)
        #expect(r.dropped.isEmpty && r.survivors == [2, 3, 4, 5, 6])
        #expect(throws: SecAggError.conflictingShareRequest(peer: 2)) {
            _ = try h.clients[1]!.handle(
                .unmaskingRequest(
                    sessionId: r.sid, recipient: 1, dropped: [2], survivors: [2, 3, 4, 5], signatures: []))
        }
    }

    /// A survivor substituted by a client that never shared keys with this one (the counts agree, the lists are
    /// disjoint): the semi-honest client refuses.
    @Test func semiHonestClientRefusesASubstitutedSurvivor() throws {
        var h = try Harness(n: 6, t: 3, label: "defence substituted")
        try h.run(until: .unmasking, skip: [.shareKeys: [6]])
        let r = try Self.request(h, to: 1)
        #expect(r.survivors == [2, 3, 4, 5])
        #expect(throws: SecAggError.self) {
            _ = try h.clients[1]!.handle(
                .unmaskingRequest(sessionId: r.sid, recipient: 1, dropped: [], survivors: [2, 3, 4, 6], signatures: []))
        }
        guard case .aborted = h.clients[1]!.state else {
            Issue.record("client 1 should refuse")
            return
        }
    }

    /// A server message addressed to another client is rejected without a state change.
    @Test func clientRejectsAMessageForAnotherRecipient() throws {
        var h = try Harness(n: 5, t: 3, label: "defence recipient")
        try h.run(until: .maskedInputCollection)
        let forTwo = try #require(h.pending.first { $0.recipient == 2 }?.message)
        let before = h.clients[1]!.state
        #expect(throws: SecAggError.unexpectedMessage(expected: "a message for client 1", received: "one for client 2"))
        {
            _ = try h.clients[1]!.handle(forTwo)
        }
        #expect(h.clients[1]!.state == before)
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    /// A key broadcast in which one client's key (encryption or masking) is copied into another's entry is
    /// refused.
    @Test(arguments: ["encryption", "masking"])
    func clientRefusesAKeyCopiedBetweenEntries(_ key: String) throws {
        var h = try Harness(n: 5, t: 3, label: "defence copied \(key) key")
        try h.run(until: .shareKeys)
        guard case let .keysBroadcast(digest, keys)? = h.pending.first?.message else { return }
        var entries = keys.entries
        if key == "encryption" {
            entries[3].encryptionKey = entries[2].encryptionKey
        } else {
            entries[3].maskingKey = entries[2].maskingKey
        }
        #expect(
            throws: SecAggError.inconsistentServerMessage(reason: "client 4 advertised a key that is already in use")
        ) {
            _ = try h.clients[1]!.handle(
                .keysBroadcast(
                    configurationDigest: digest, keys: KeyBroadcast(entries: entries, signed: false, committed: false)))
        }
    }

    // MARK: Server

    /// A low-order encryption key would give every neighbour an all-zero shared secret (and make each abort):
    /// the server refuses the advertisement.
    @Test func serverRefusesALowOrderKey() throws {
        var h = try Harness(n: 5, t: 3, label: "defence low order")
        try h.start()
        guard case let .advertiseKeys(digest, keys) = h.replies[0].message else { return }
        var lowOrder = keys
        lowOrder.encryptionKey = try X25519.PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 32))
        #expect(throws: SecAggError.invalidClientMessage(sender: keys.index, reason: "low-order public key")) {
            try h.server.receive(.advertiseKeys(configurationDigest: digest, keys: lowOrder), from: keys.index)
        }
        var lowMasking = keys
        lowMasking.maskingKey = try X25519.PublicKey(rawRepresentation: [1] + [UInt8](repeating: 0, count: 31))
        #expect(throws: SecAggError.invalidClientMessage(sender: keys.index, reason: "low-order public key")) {
            try h.server.receive(.advertiseKeys(configurationDigest: digest, keys: lowMasking), from: keys.index)
        }
    }

    @Test func serverRejectsABadConsistencySignature() throws {
        var h = try Harness(n: 5, t: 3, model: .active, label: "defence consistency signature")
        try h.run(until: .consistencyCheck)
        try h.deliver()
        guard case let .consistencySignature(sid, sender, signature) = h.replies[0].message else { return }
        var forged = signature
        forged[0] ^= 1
        #expect(throws: SecAggError.badSignature(signer: sender, round: .consistencyCheck)) {
            try h.server.receive(.consistencySignature(sessionId: sid, sender: sender, signature: forged), from: sender)
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    // MARK: Wire

    /// In the semi-honest model an unmasking request carries no signatures: a count of 1 is over the limit.
    @Test func semiHonestUnmaskingRequestsCarryNoSignatures() throws {
        let h = try Harness(n: 5, t: 3, label: "defence signature count wire")
        let sid = [UInt8](repeating: 3, count: 32)
        var bytes = h.wire.encode(
            ServerMessage.unmaskingRequest(
                sessionId: sid, recipient: 1, dropped: [], survivors: [2, 3], signatures: []))
        bytes.removeLast(4)
        bytes += [1, 0, 0, 0, 2, 0, 0, 0] + [UInt8](repeating: 0, count: 64)
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "signatureCount", count: 1, maximum: 0))) {
            _ = try h.wire.decodeServerMessage(bytes)
        }
    }
}

/// Typed messages handed to the engine directly (a transport with its own decoding) get the same checks as
/// bytes: one valid consistency signature repeated t times is one signer, and a complaint listed twice is
/// refused rather than corrected twice.
@Suite("typed messages are checked like bytes")
struct TypedMessageTests {
    @Test func aRepeatedSignatureCountsOnce() throws {
        var h = try Harness(n: 6, t: 4, model: .active, label: "repeated signer")
        try h.run(until: .unmasking, skip: [.maskedInputCollection: [6]])
        let message = try #require(h.pending.first { $0.recipient == 1 }?.message)
        guard case let .unmaskingRequest(sid, _, dropped, survivors, signatures) = message else { return }
        let repeated = Array(repeating: signatures[0], count: 4)
        #expect(throws: SecAggError.inconsistentServerMessage(reason: "client \(signatures[0].signer) signed twice")) {
            _ = try h.clients[1]!.handle(
                .unmaskingRequest(
                    sessionId: sid, recipient: 1, dropped: dropped, survivors: survivors, signatures: repeated))
        }
    }

    @Test func aComplaintListedTwiceIsRefused() throws {
        var h = try Harness(n: 6, t: 3, label: "repeated complaint")
        try h.run(until: .maskedInputCollection)
        try h.deliver()
        let position = try #require(h.replies.firstIndex { $0.sender == 1 })
        guard case let .maskedInput(sid, _, _, vectors) = h.replies[position].message else { return }
        let complaint = ShareComplaint(
            sender: 2, pairwiseMaskSeed: SecretBytes(copying: [UInt8](repeating: 4, count: 32)))
        #expect(throws: SecAggError.invalidClientMessage(sender: 1, reason: "complaints must be strictly ascending")) {
            try h.server.receive(
                .maskedInput(sessionId: sid, sender: 1, complaints: [complaint, complaint], vectors: vectors), from: 1)
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...6)))
    }
}
