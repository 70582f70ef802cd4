import SecAggCrypto
import SecureAggregation
import Testing

/// Tests written for the mutants of `Tests/Mutation/mutants.tsv` that no other test killed: each builds the one
/// situation in which only that defence stands between the input and a wrong outcome. The mutant ids each test
/// kills are in its comment.
@Suite("defences found unguarded by mutation testing")
struct MutationKillerTests {
    // MARK: Helpers

    /// The message pending for `client`.
    private static func pending(_ h: Harness, to client: UInt32) throws -> ServerMessage {
        try #require(h.pending.first { $0.recipient == client }?.message)
    }

    /// Index of `sender`'s held reply.
    private static func reply(_ h: Harness, from sender: UInt32) throws -> Int {
        try #require(h.replies.firstIndex { $0.sender == sender })
    }

    /// The Ed25519 keys a harness labelled `label` configured (the harness draws them first from its generator).
    private static func signingKeys(n: Int, t: Int, label: String) -> [UInt32: Ed25519.PrivateKey] {
        var rng = DeterministicRandomGenerator(testLabel: label)
        return SessionDriver.makeConfiguration(n: n, t: t, model: .active, inputs: [], rng: &rng).1
    }

    /// Replaces the ciphertexts `sender` addressed to `recipients` (in its held ShareKeys reply) with garbage.
    private static func garble(_ h: inout Harness, sender: UInt32, to recipients: Set<UInt32>) throws {
        let slot = try reply(h, from: sender)
        guard case let .shareKeys(sid, u, commitment, shares) = h.replies[slot].message else {
            Issue.record("no ShareKeys from \(sender)")
            return
        }
        h.replies[slot].message = .shareKeys(
            sessionId: sid, sender: u, selfMaskCommitment: commitment,
            shares: shares.map {
                recipients.contains($0.peer)
                    ? EncryptedShare(peer: $0.peer, ciphertext: [UInt8](repeating: 0xA5, count: $0.ciphertext.count))
                    : $0
            })
    }

    /// `message` with another session id (another configuration digest for an advertisement).
    private static func inAnotherSession(_ message: ClientMessage) -> ClientMessage {
        let other = [UInt8](repeating: 0xEE, count: 32)
        switch message {
        case let .advertiseKeys(_, keys):
            return .advertiseKeys(configurationDigest: other, keys: keys)
        case let .seedReveal(_, sender, contribution):
            return .seedReveal(sessionId: other, sender: sender, contribution: contribution)
        case let .shareKeys(_, sender, commitment, shares):
            return .shareKeys(sessionId: other, sender: sender, selfMaskCommitment: commitment, shares: shares)
        case let .maskedInput(_, sender, complaints, vectors):
            return .maskedInput(sessionId: other, sender: sender, complaints: complaints, vectors: vectors)
        case let .consistencySignature(_, sender, signature):
            return .consistencySignature(sessionId: other, sender: sender, signature: signature)
        case let .unmaskingResponse(_, sender, keyShares, seedShares):
            return .unmaskingResponse(
                sessionId: other, sender: sender, maskingKeyShares: keyShares, selfMaskShares: seedShares)
        }
    }

    private static let notOwnKeys = SecAggError.inconsistentServerMessage(
        reason: "the key broadcast does not contain this client's keys")

    // MARK: Client, rounds 0′ and 1

    /// c-own-encryption-key, c-own-masking-key: a broadcast that replaces either of the client's own public keys
    /// (the server would then hold the matching private key) is refused.
    @Test func clientRefusesABroadcastThatReplacesItsOwnKeys() throws {
        var h = try Harness(n: 5, t: 3, label: "mk own keys")
        try h.run(until: .shareKeys)
        guard case let .keysBroadcast(digest, keys) = try Self.pending(h, to: 1) else {
            Issue.record("no key broadcast")
            return
        }
        var rng = DeterministicRandomGenerator(testLabel: "mk own keys substitute")
        let substitute = X25519.PrivateKey(using: &rng).publicKey
        for replaceEncryptionKey in [true, false] {
            var entries = keys.entries
            if replaceEncryptionKey {
                entries[0].encryptionKey = substitute
            } else {
                entries[0].maskingKey = substitute
            }
            var client = h.clients[1]!
            #expect(throws: Self.notOwnKeys, "encryption key replaced: \(replaceEncryptionKey)") {
                _ = try client.handle(
                    .keysBroadcast(
                        configurationDigest: digest,
                        keys: KeyBroadcast(entries: entries, signed: false, committed: false)))
            }
        }
        var client = h.clients[1]!
        guard case .shareKeys? = try client.handle(.keysBroadcast(configurationDigest: digest, keys: keys)) else {
            Issue.record("the honest broadcast was not answered")
            return
        }
    }

    /// c-round1-live-t: a broadcast leaving the client t − 1 live neighbours is refused before it shares anything.
    @Test func clientNeedsTLiveNeighboursToShareKeys() throws {
        var h = try Harness(n: 5, t: 3, label: "mk round 1 live")
        try h.run(until: .shareKeys)
        guard case let .keysBroadcast(digest, keys) = try Self.pending(h, to: 1) else { return }
        let few = KeyBroadcast(entries: Array(keys.entries.prefix(3)), signed: false, committed: false)
        #expect(throws: SecAggError.insufficientClients(round: .shareKeys, count: 2, required: 3)) {
            _ = try h.clients[1]!.handle(.keysBroadcast(configurationDigest: digest, keys: few))
        }
    }

    /// c-own-seed-commitment, c-sparse-broadcast-digest, c-seed-reveal-t-plus-1: on a sparse graph the client
    /// refuses a broadcast that changes its seed commitment, only rejects one for another configuration, and
    /// refuses to reveal its contribution when the broadcast has fewer than t + 1 entries.
    @Test func sparseClientChecksTheKeyBroadcastBeforeRevealing() throws {
        var h = try Harness(n: 12, t: 3, label: "mk sparse broadcast", graph: .harary(degree: 4))
        try h.run(until: .seedReveal)
        guard case let .keysBroadcast(digest, keys) = try Self.pending(h, to: 1) else { return }

        var entries = keys.entries
        entries[0].seedCommitment[0] ^= 1
        var client = h.clients[1]!
        #expect(throws: Self.notOwnKeys) {
            _ = try client.handle(
                .keysBroadcast(
                    configurationDigest: digest, keys: KeyBroadcast(entries: entries, signed: false, committed: true)))
        }

        client = h.clients[1]!
        #expect(throws: SecAggError.wrongSession) {
            _ = try client.handle(.keysBroadcast(configurationDigest: [UInt8](repeating: 7, count: 32), keys: keys))
        }
        #expect(client.state == .seedReveal)

        client = h.clients[1]!
        let few = KeyBroadcast(entries: Array(keys.entries.prefix(3)), signed: false, committed: true)
        #expect(throws: SecAggError.insufficientClients(round: .seedReveal, count: 3, required: 4)) {
            _ = try client.handle(.keysBroadcast(configurationDigest: digest, keys: few))
        }

        client = h.clients[1]!
        guard case .seedReveal? = try client.handle(.keysBroadcast(configurationDigest: digest, keys: keys)) else {
            Issue.record("the honest broadcast was not answered with a reveal")
            return
        }
    }

    // MARK: Client, round 2

    /// c-round2-sender-live, c-round2-held-t, c-binding-session: forwarded shares from a client that is not a
    /// live neighbour are refused (not taken as a complaint), fewer than t opened shares are refused, and shares of
    /// another session are only rejected.
    @Test func clientChecksTheForwardedShares() throws {
        var h = try Harness(n: 6, t: 3, label: "mk round 2")
        try h.run(until: .maskedInputCollection, skip: [.advertiseKeys: [6]])
        guard case let .sharesForward(sid, _, shares) = try Self.pending(h, to: 1) else { return }
        #expect(shares.map(\.peer) == [2, 3, 4, 5])

        var client = h.clients[1]!
        let stranger = EncryptedShare(peer: 6, ciphertext: [UInt8](repeating: 0xA5, count: shareCiphertextByteCount))
        #expect(throws: SecAggError.inconsistentServerMessage(reason: "shares from client 6, not a live neighbour")) {
            _ = try client.handle(.sharesForward(sessionId: sid, recipient: 1, shares: shares + [stranger]))
        }

        client = h.clients[1]!
        #expect(throws: SecAggError.insufficientClients(round: .maskedInputCollection, count: 2, required: 3)) {
            _ = try client.handle(.sharesForward(sessionId: sid, recipient: 1, shares: Array(shares.prefix(2))))
        }

        client = h.clients[1]!
        var otherSession = sid
        otherSession[0] ^= 1
        #expect(throws: SecAggError.wrongSession) {
            _ = try client.handle(.sharesForward(sessionId: otherSession, recipient: 1, shares: shares))
        }
        #expect(client.state == .maskedInputCollection)
        guard
            case .maskedInput(_, _, [], _)? = try client.handle(
                .sharesForward(sessionId: sid, recipient: 1, shares: shares))
        else {
            Issue.record("the honest shares were not answered without complaint")
            return
        }
    }

    /// c-open-x-own-index: a box that authenticates but holds shares for another x-coordinate is a complaint (a
    /// share with the wrong x would be revealed as if it were this client's). Client 2 is played by the test.
    @Test func clientComplainsAboutSharesForAnotherXCoordinate() throws {
        var h = try Harness(n: 5, t: 3, label: "mk wrong x")
        try h.start()
        var rng = DeterministicRandomGenerator(testLabel: "mk wrong x sender")
        let encryption = X25519.PrivateKey(using: &rng)
        let masking = X25519.PrivateKey(using: &rng)
        let slot = try Self.reply(h, from: 2)
        guard case let .advertiseKeys(digest, _) = h.replies[slot].message else { return }
        h.replies[slot].message = .advertiseKeys(
            configurationDigest: digest,
            keys: AdvertisedKeys(
                index: 2, encryptionKey: encryption.publicKey, maskingKey: masking.publicKey, signature: []))
        try h.advance()
        guard case let .keysBroadcast(_, keys) = try Self.pending(h, to: 1) else { return }
        let sid = try #require(h.server.sessionID?.bytes)
        try h.deliver(skipping: [2])
        var toOne: [EncryptedShare] = []
        for (sender, message) in h.replies {
            if case let .shareKeys(_, _, _, shares) = message, let box = shares.first(where: { $0.peer == 1 }) {
                toOne.append(EncryptedShare(peer: sender, ciphertext: box.ciphertext))
            }
        }
        #expect(toOne.map(\.peer) == [3, 4, 5])

        let peerKey = try #require(keys.entry(for: 1)).encryptionKey
        let key = try KeyDerivation.shareEncryptionKey(
            sharedSecret: try encryption.sharedSecret(with: peerKey), sessionId: sid, 2, 1)
        let ad = ShareAssociatedData(sessionId: sid, sender: 2, recipient: 1, purpose: .keyShares).bytes
        let secret = SecretBytes(randomByteCount: 32, using: &rng)
        let shares = try ShamirSecretSharing.split(
            secret: secret, threshold: 3, xCoordinates: [1, 3, 4, 5], using: &rng)
        #expect(shares[0].x == 1 && shares[1].x == 3)
        for (wrongX, plaintext) in [
            (false, shares[0].encoded() + shares[0].encoded()),
            (true, shares[1].encoded() + shares[0].encoded()),
            (true, shares[0].encoded() + shares[1].encoded()),
        ] {
            let box = try Aead.seal(plaintext, key: key, associatedData: ad, using: &rng)
            var client = h.clients[1]!
            let reply = try client.handle(
                .sharesForward(
                    sessionId: sid, recipient: 1, shares: [EncryptedShare(peer: 2, ciphertext: box)] + toOne))
            guard case let .maskedInput(_, _, complaints, _)? = reply else {
                Issue.record("no masked input")
                return
            }
            #expect(complaints.map { $0.sender } == (wrongX ? [2] : []))
        }
    }

    // MARK: Client, round 3

    /// c-consistency-own-member, c-consistency-held, c-consistency-live-t: the client signs only a survivor set
    /// that contains itself, no neighbour that never shared keys with it, and at least t live neighbours.
    @Test func clientChecksTheSurvivorSetBeforeSigning() throws {
        var h = try Harness(n: 6, t: 4, model: .active, label: "mk consistency")
        try h.run(until: .consistencyCheck, skip: [.shareKeys: [6]])
        guard case let .consistencyRequest(sid, survivors) = try Self.pending(h, to: 1) else { return }
        #expect(Array(survivors) == [1, 2, 3, 4, 5])
        let cases: [([UInt32], SecAggError)] = [
            ([2, 3, 4, 5], .inconsistentServerMessage(reason: "survivor set does not contain this client")),
            ([1, 2, 3, 4, 5, 6], .inconsistentServerMessage(reason: "survivor 6 never shared keys with this client")),
            ([1, 2, 3, 4], .insufficientClients(round: .consistencyCheck, count: 3, required: 4)),
        ]
        for (members, error) in cases {
            var client = h.clients[1]!
            #expect(throws: error, "\(members)") {
                _ = try client.handle(
                    .consistencyRequest(sessionId: sid, survivors: ClientSet(clientCount: 6, members: members)))
            }
        }
        var client = h.clients[1]!
        guard case .consistencySignature? = try client.handle(.consistencyRequest(sessionId: sid, survivors: survivors))
        else {
            Issue.record("the honest survivor set was not signed")
            return
        }
    }

    /// c-consistency-complained: in the active model a survivor the client complained about is allowed in the
    /// survivor set (it just does not count towards t): the session completes with the exact sum.
    @Test func activeSessionWithAComplaintCompletes() throws {
        var h = try Harness(n: 5, t: 3, model: .active, label: "mk active complaint")
        try h.run(until: .shareKeys)
        try h.deliver()
        try Self.garble(&h, sender: 3, to: [1])
        let result = try #require(try h.finish())
        #expect(result.includedClients.map(\.rawValue) == Array(1...5))
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
        #expect(result.flaggedClients == [FlaggedClient(client: 3, reason: .undecryptableShares(reporter: 1))])
    }

    // MARK: Client, round 4

    /// c-unmask-survivors-t, c-unmask-exact-cover: the client answers only when at least t survivors are listed
    /// and the two lists together cover every peer whose shares it holds (a peer left out could be listed the other
    /// way to another client).
    @Test func clientChecksTheUnmaskingLists() throws {
        var h = try Harness(n: 5, t: 3, label: "mk survivors t")
        try h.run(until: .unmasking)
        guard case let .unmaskingRequest(sid, _, dropped, survivors, _) = try Self.pending(h, to: 1) else { return }
        #expect(dropped.isEmpty && survivors == [2, 3, 4, 5])
        var client = h.clients[1]!
        #expect(throws: SecAggError.insufficientClients(round: .unmasking, count: 2, required: 3)) {
            _ = try client.handle(
                .unmaskingRequest(sessionId: sid, recipient: 1, dropped: [4, 5], survivors: [2, 3], signatures: []))
        }
        client = h.clients[1]!
        #expect(
            throws: SecAggError.inconsistentServerMessage(
                reason: "the request does not classify every neighbour that shared keys")
        ) {
            _ = try client.handle(
                .unmaskingRequest(sessionId: sid, recipient: 1, dropped: [], survivors: [2, 3, 4], signatures: []))
        }
        client = h.clients[1]!
        guard
            case .unmaskingResponse? = try client.handle(
                .unmaskingRequest(sessionId: sid, recipient: 1, dropped: [], survivors: survivors, signatures: []))
        else {
            Issue.record("the honest request was not answered")
            return
        }
    }

    /// c-unmask-signer-neighbour, c-unmask-signer-signed: a forwarded consistency signature counts only when its
    /// signer is a neighbour (not the client itself) and in the signed survivor set (not client 6, which dropped
    /// before round 3 but can still sign whatever it likes).
    @Test func forwardedSignaturesCountOnlyFromNeighboursInTheSignedSet() throws {
        let label = "mk signers"
        var h = try Harness(n: 6, t: 4, model: .active, label: label)
        try h.run(until: .consistencyCheck, skip: [.maskedInputCollection: [6]])
        try h.deliver()
        let ownSlot = try Self.reply(h, from: 1)
        guard case let .consistencySignature(_, _, own) = h.replies[ownSlot].message else { return }
        try h.advance()
        guard case let .unmaskingRequest(sid, _, dropped, survivors, signatures) = try Self.pending(h, to: 1) else {
            return
        }
        #expect(dropped == [6] && survivors == [2, 3, 4, 5])
        #expect(signatures.map(\.signer) == [2, 3, 4, 5])

        let keys = Self.signingKeys(n: 6, t: 4, label: label)
        #expect(keys[6]?.publicKey == h.configuration.verificationKeys[5])
        let signedSet = ClientSet(clientCount: 6, members: [1, 2, 3, 4, 5])
        let bySix = try #require(keys[6]).signature(
            for: ConsistencyCheck.signedBytes(sessionId: sid, signer: 6, survivors: signedSet))
        let cases: [([ConsistencySignatureEntry], UInt32)] = [
            ([ConsistencySignatureEntry(signer: 1, signature: own)] + signatures.prefix(3), 1),
            (signatures.prefix(3) + [ConsistencySignatureEntry(signer: 6, signature: bySix)], 6),
        ]
        for (entries, culprit) in cases {
            var client = h.clients[1]!
            #expect(
                throws: SecAggError.inconsistentServerMessage(
                    reason: "signature from client \(culprit), not a live neighbour")
            ) {
                _ = try client.handle(
                    .unmaskingRequest(
                        sessionId: sid, recipient: 1, dropped: dropped, survivors: survivors, signatures: entries))
            }
        }
        var client = h.clients[1]!
        guard
            case .unmaskingResponse? = try client.handle(
                .unmaskingRequest(
                    sessionId: sid, recipient: 1, dropped: dropped, survivors: survivors, signatures: signatures))
        else {
            Issue.record("the honest request was not answered")
            return
        }
    }

    /// c-unmask-once (unmasking rule 4 across requests): a client answers one unmasking request. A second one that
    /// lists a peer as dropped after the first listed it as a survivor would reveal that peer's masking-key share
    /// next to its self-mask share (both of its secrets); it is rejected, nothing is revealed, and the session
    /// completes exactly.
    @Test func clientAnswersOneUnmaskingRequestOnly() throws {
        var h = try Harness(n: 6, t: 3, label: "mk one unmasking request")
        try h.run(until: .unmasking)
        guard case let .unmaskingRequest(sid, _, dropped, survivors, _) = try Self.pending(h, to: 1) else { return }
        #expect(dropped.isEmpty && survivors == [2, 3, 4, 5, 6])
        try h.deliver()
        #expect(h.clients[1]!.state == .awaitingOutcome)
        var second: ClientMessage?
        #expect(throws: SecAggError.unexpectedMessage(expected: "awaitingOutcome", received: "unmasking")) {
            second = try h.clients[1]!.handle(
                .unmaskingRequest(sessionId: sid, recipient: 1, dropped: [2], survivors: [3, 4, 5, 6], signatures: []))
        }
        #expect(second == nil)
        #expect(h.clients[1]!.state == .awaitingOutcome)
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...6)))
    }

    /// c-abort-binding: an Abort for another session is only rejected; one bound to the session stops the client.
    @Test func clientHonoursOnlyAnAbortForItsSession() throws {
        var h = try Harness(n: 5, t: 3, label: "mk abort")
        try h.run(until: .shareKeys)
        try h.deliver()
        let sid = try #require(h.clients[1]!.sessionID?.bytes)
        var client = h.clients[1]!
        #expect(throws: SecAggError.wrongSession) {
            _ = try client.handle(.abort(binding: [UInt8](repeating: 7, count: 32), code: .insufficientClients))
        }
        #expect(client.state == .maskedInputCollection)
        _ = try client.handle(.abort(binding: sid, code: .insufficientClients))
        #expect(client.state == .aborted(.serverAborted(code: .insufficientClients)))
    }

    /// c-signing-key-match: in the active model a client refuses a signing key other than its configured one.
    @Test func activeClientNeedsItsConfiguredSigningKey() throws {
        let label = "mk signing key"
        let h = try Harness(n: 5, t: 3, model: .active, label: label)
        let keys = Self.signingKeys(n: 5, t: 3, label: label)
        #expect(
            throws: SecAggError.invalidConfiguration(
                reason: "active model: signing key does not match the configured key")
        ) {
            _ = try SecAggClient(configuration: h.configuration, index: 1, signingKey: keys[2])
        }
        _ = try SecAggClient(configuration: h.configuration, index: 1, signingKey: keys[1])
    }

    /// On a sparse graph round 1 starts only with the seed reveals; a key broadcast replayed after the reveal round
    /// (which would give a ring nobody contributed to) is only rejected. (Written for the flat client's
    /// c-sparse-no-second-broadcast; the client that has revealed is now in a state that takes no key broadcast at
    /// all, which no one-line mutant can undo, so the test stays as a regression test without a mutant.)
    @Test func sparseClientTakesOneKeyBroadcastOnly() throws {
        var h = try Harness(n: 12, t: 3, label: "mk second broadcast", graph: .harary(degree: 4))
        try h.run(until: .seedReveal)
        let broadcast = try Self.pending(h, to: 1)
        try h.deliver()
        var client = h.clients[1]!
        #expect(client.state == .shareKeys)
        #expect(throws: SecAggError.self) { _ = try client.handle(broadcast) }
        #expect(client.state == .shareKeys)
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...12)))
    }

    // MARK: Server

    /// s-session-* (and s-advertise-digest): in every round the server rejects a message bound to another session,
    /// leaves its state unchanged, and the session completes exactly. Active model on a sparse graph, so that every
    /// round exists.
    @Test func serverRejectsEveryMessageOfAnotherSession() throws {
        var h = try Harness(n: 12, t: 3, model: .active, label: "mk server sessions", graph: .harary(degree: 4))
        try h.start()
        var rounds: [ProtocolRound] = []
        while true {
            let (sender, message) = try #require(h.replies.first)
            #expect(throws: SecAggError.wrongSession, "\(message.round)") {
                try h.server.receive(Self.inAnotherSession(message), from: sender)
            }
            rounds.append(message.round)
            try h.advance()
            if case .completed = h.server.state { break }
            try h.deliver()
        }
        #expect(
            rounds == [.advertiseKeys, .seedReveal, .shareKeys, .maskedInputCollection, .consistencyCheck, .unmasking])
        #expect(h.server.result?.vectors == h.expectedSum(of: Array(1...12)))
    }

    /// s-sender-range: index 0 is no client, even in round 0 where no live set restricts the sender.
    @Test func serverRejectsClientIndexZero() throws {
        var h = try Harness(n: 5, t: 3, label: "mk sender zero")
        try h.start()
        guard case let .advertiseKeys(digest, keys) = h.replies[0].message else { return }
        var zero = keys
        zero.index = 0
        #expect(throws: SecAggError.notParticipating(sender: 0, round: .advertiseKeys)) {
            try h.server.receive(.advertiseKeys(configurationDigest: digest, keys: zero), from: 0)
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    /// s-round-check: a ShareKeys replayed during round 2 is rejected (it would replace the sender's self-mask
    /// commitment and take its place in the round).
    @Test func serverRejectsAReplayedShareKeysInRoundTwo() throws {
        var h = try Harness(n: 5, t: 3, label: "mk replay share keys")
        try h.run(until: .shareKeys)
        try h.deliver()
        let replay = h.replies[try Self.reply(h, from: 1)].message
        try h.advance()
        #expect(throws: SecAggError.notParticipating(sender: 1, round: .shareKeys)) {
            try h.server.receive(replay, from: 1)
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    /// s-eligible-unmasking-active: in the active model only clients that signed the consistency check (U4) may
    /// reveal shares; client 6 sent its masked input but did not sign, and its unmasking response is refused.
    @Test func activeServerTakesUnmaskingResponsesOnlyFromSigners() throws {
        var h = try Harness(n: 6, t: 4, model: .active, label: "mk non signer")
        try h.run(until: .unmasking, skip: [.consistencyCheck: [6]])
        #expect(h.pending.map(\.recipient) == [1, 2, 3, 4, 5])
        let sid = try #require(h.server.sessionID?.bytes)
        let share = try Self.share(x: 6)
        let response = ClientMessage.unmaskingResponse(
            sessionId: sid, sender: 6, maskingKeyShares: [],
            selfMaskShares: (UInt32(1)...5).map { RevealedShare(owner: $0, share: share) })
        #expect(throws: SecAggError.notParticipating(sender: 6, round: .unmasking)) {
            try h.server.receive(response, from: 6)
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...6)))
    }

    /// s-complaint-skip-mutual: when two clients complained about each other neither added their pair mask, so the
    /// server must use neither disclosed seed (honest seeds are equal and would cancel; a wrong one would not).
    @Test func mutualComplaintsUseNeitherSeed() throws {
        var h = try Harness(n: 6, t: 3, label: "mk mutual complaint")
        try h.run(until: .shareKeys)
        try h.deliver()
        try Self.garble(&h, sender: 4, to: [5])
        try Self.garble(&h, sender: 5, to: [4])
        try h.advance()
        try h.deliver()
        let slot = try Self.reply(h, from: 4)
        guard case let .maskedInput(sid, sender, complaints, vectors) = h.replies[slot].message else { return }
        #expect(complaints.map { $0.sender } == [5])
        let wrong = SecretBytes(copying: [UInt8](repeating: 0x5A, count: 32))
        h.replies[slot].message = .maskedInput(
            sessionId: sid, sender: sender, complaints: [ShareComplaint(sender: 5, pairwiseMaskSeed: wrong)],
            vectors: vectors)
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...6)))
        #expect(
            Set(result.flaggedClients) == [
                FlaggedClient(client: 4, reason: .undecryptableShares(reporter: 5)),
                FlaggedClient(client: 5, reason: .undecryptableShares(reporter: 4)),
            ])
    }

    /// s-advertise-digest: an advertisement for another configuration is rejected; the session goes on.
    @Test func serverRejectsAnAdvertisementForAnotherConfiguration() throws {
        var h = try Harness(n: 5, t: 3, label: "mk server digest")
        try h.start()
        guard case let .advertiseKeys(_, keys) = h.replies[0].message else { return }
        #expect(throws: SecAggError.wrongSession) {
            try h.server.receive(
                .advertiseKeys(configurationDigest: [UInt8](repeating: 7, count: 32), keys: keys), from: keys.index)
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    /// s-share-keys-recipients: ShareKeys must address exactly the sender's live neighbours.
    @Test func serverRejectsShareKeysThatSkipANeighbour() throws {
        var h = try Harness(n: 5, t: 3, label: "mk share keys recipients")
        try h.run(until: .shareKeys)
        try h.deliver()
        let slot = try Self.reply(h, from: 1)
        guard case let .shareKeys(sid, sender, commitment, shares) = h.replies[slot].message else { return }
        #expect(
            throws: SecAggError.invalidClientMessage(
                sender: 1, reason: "shares must address exactly its 4 live neighbours")
        ) {
            try h.server.receive(
                .shareKeys(
                    sessionId: sid, sender: sender, selfMaskCommitment: commitment, shares: Array(shares.dropLast())),
                from: 1)
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    /// s-masked-vector-count, s-masked-vector-length, s-masked-vector-ring, s-masked-vector-ring-pow2,
    /// s-masked-deduct: a masked input must have exactly the configured vectors, lengths and ring elements (the API
    /// takes them without the wire decoder's checks), and a refused one leaves the sum as it was.
    @Test func serverRejectsMaskedInputsOfTheWrongShape() throws {
        var h = try Harness(n: 5, t: 3, label: "mk masked shape")
        try h.run(until: .maskedInputCollection)
        try h.deliver()
        let slot = try Self.reply(h, from: 1)
        guard case let .maskedInput(sid, _, complaints, vectors) = h.replies[slot].message else { return }
        var outsideRing = vectors
        outsideRing[1][0] = 10_007
        // Out of Z_2^32 in the last element of x: x is added in the same pass that finds it, then taken out.
        var outsidePowerOfTwo = vectors
        outsidePowerOfTwo[0][32] = 1 << 32
        let cases: [([[UInt64]], String)] = [
            (vectors + [[0]], "wrong number of vectors"),
            ([vectors[0] + [0], vectors[1]], "vector x has the wrong shape"),
            ([vectors[0], vectors[1] + [0]], "vector y has the wrong shape"),
            (outsideRing, "vector y has the wrong shape"),
            (outsidePowerOfTwo, "vector x has the wrong shape"),
        ]
        for (bad, reason) in cases {
            #expect(throws: SecAggError.invalidClientMessage(sender: 1, reason: reason)) {
                try h.server.receive(
                    .maskedInput(sessionId: sid, sender: 1, complaints: complaints, vectors: bad), from: 1)
            }
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    /// s-response-key-owners, s-response-seed-owners, s-response-x-sender: an unmasking response must carry shares
    /// for exactly the lists the server sent, each with the sender's x-coordinate.
    @Test func serverChecksUnmaskingResponses() throws {
        var h = try Harness(n: 6, t: 3, label: "mk responses")
        try h.run(until: .unmasking, skip: [.maskedInputCollection: [6]])
        try h.deliver()
        let slot = try Self.reply(h, from: 1)
        guard case let .unmaskingResponse(sid, _, keyShares, seedShares) = h.replies[slot].message else { return }
        #expect(keyShares.map(\.owner) == [6] && seedShares.map(\.owner) == [2, 3, 4, 5])
        var bytes = seedShares[0].share.encoded()
        bytes[0] = 2  // x is the first LE32 of the encoding
        var wrongX = seedShares
        wrongX[0] = RevealedShare(
            owner: seedShares[0].owner, share: try ShamirShare(encoded: bytes, secretByteCount: 32))
        let mismatch = "shares do not match the unmasking request"
        let cases: [([RevealedShare], [RevealedShare], String)] = [
            ([], seedShares, mismatch),
            (keyShares, Array(seedShares.dropLast()), mismatch),
            (keyShares, wrongX, "share x-coordinate is not the sender's index"),
        ]
        for (keys, seeds, reason) in cases {
            #expect(throws: SecAggError.invalidClientMessage(sender: 1, reason: reason)) {
                try h.server.receive(
                    .unmaskingResponse(sessionId: sid, sender: 1, maskingKeyShares: keys, selfMaskShares: seeds),
                    from: 1)
            }
        }
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }

    /// s-dropped-key-needed: a client whose ciphertexts every neighbour complained about and that then drops added
    /// no mask anyone kept: the server must not try to reconstruct its masking key (nobody holds its shares).
    @Test func aDroppedClientEveryoneComplainedAboutNeedsNoReconstruction() throws {
        var h = try Harness(n: 6, t: 3, label: "mk garble all then drop")
        try h.run(until: .shareKeys)
        try h.deliver()
        try Self.garble(&h, sender: 3, to: [1, 2, 4, 5, 6])
        try h.advance()
        try h.deliver(skipping: [3])
        let result = try #require(try h.finish())
        #expect(result.includedClients.map(\.rawValue) == [1, 2, 4, 5, 6])
        #expect(result.vectors == h.expectedSum(of: [1, 2, 4, 5, 6]))
        #expect(
            result.flaggedClients
                == [1, 2, 4, 5, 6].map { FlaggedClient(client: 3, reason: .undecryptableShares(reporter: $0)) })
    }

    // MARK: Wire

    /// A share of a 32-byte secret at x.
    private static func share(x: UInt32) throws -> ShamirShare {
        var rng = DeterministicRandomGenerator(testLabel: "mk wire share")
        let secret = SecretBytes(randomByteCount: 32, using: &rng)
        return try ShamirSecretSharing.split(secret: secret, threshold: 1, xCoordinates: [x], using: &rng)[0]
    }

    /// w-key-count, w-complaint-count, w-response-count, w-dropped-count, w-survivor-count: every count one over
    /// its limit (n for key lists, k = 4 for the others) is refused before anything is read.
    @Test func countsOneOverTheLimitAreRefused() throws {
        var h = try Harness(n: 5, t: 3, label: "mk wire counts")
        let w = h.wire
        let sid = [UInt8](repeating: 1, count: 32)
        try h.run(until: .shareKeys)
        guard case .keysBroadcast = try Self.pending(h, to: 1) else { return }
        var broadcast = w.encode(try Self.pending(h, to: 1))
        broadcast[34] = 6  // LE32 count after version, tag and the 32-byte digest
        broadcast += [6, 0, 0, 0] + [UInt8](repeating: 9, count: 64)
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "keyCount", count: 6, maximum: 5))) {
            _ = try w.decodeServerMessage(broadcast)
        }

        let seed = SecretBytes(copying: [UInt8](repeating: 2, count: 32))
        let zero = h.configuration.inputs.map { [UInt64](repeating: 0, count: $0.length) }
        let complaints = (UInt32(1)...5).map { ShareComplaint(sender: $0, pairwiseMaskSeed: seed) }
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "complaintCount", count: 5, maximum: 4))) {
            _ = try w.decodeClientMessage(
                try w.encode(.maskedInput(sessionId: sid, sender: 1, complaints: complaints, vectors: zero)))
        }

        let share = try Self.share(x: 1)
        let five = (UInt32(1)...5).map { RevealedShare(owner: $0, share: share) }
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "maskingKeyShares", count: 5, maximum: 4))) {
            _ = try w.decodeClientMessage(
                try w.encode(
                    .unmaskingResponse(sessionId: sid, sender: 1, maskingKeyShares: five, selfMaskShares: [])))
        }
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "selfMaskShares", count: 5, maximum: 4))) {
            _ = try w.decodeClientMessage(
                try w.encode(
                    .unmaskingResponse(sessionId: sid, sender: 1, maskingKeyShares: [], selfMaskShares: five)))
        }

        let all = Array(UInt32(1)...5)
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "dropped", count: 5, maximum: 4))) {
            _ = try w.decodeServerMessage(
                w.encode(.unmaskingRequest(sessionId: sid, recipient: 1, dropped: all, survivors: [], signatures: [])))
        }
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "survivors", count: 5, maximum: 4))) {
            _ = try w.decodeServerMessage(
                w.encode(.unmaskingRequest(sessionId: sid, recipient: 1, dropped: [], survivors: all, signatures: [])))
        }
    }

    /// w-reveal-count, w-ascending-reveals: sparse sessions limit seed-reveal lists to n entries, ascending.
    @Test func neighbourhoodListsAreBoundedAndAscending() throws {
        let h = try Harness(n: 12, t: 3, label: "mk wire reveals", graph: .harary(degree: 4))
        let w = h.wire
        let sid = [UInt8](repeating: 1, count: 32)
        let proof = [UInt8](repeating: 2, count: 4 * 32)
        func records(_ indices: [UInt32]) -> [NeighbourRecord] {
            indices.map { NeighbourRecord(index: $0, keys: nil) }
        }
        func message(_ list: [NeighbourRecord], multiproof: [UInt8] = []) -> ServerMessage {
            .neighbourhood(
                sessionId: sid, recipient: 1, revealRoot: sid, proof: proof, ringRoot: sid, neighbours: list,
                multiproof: multiproof)
        }
        // A window is at most two runs of slots: at most 4L = 16 multiproof values for n = 12.
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "multiproofCount", count: 17, maximum: 16))) {
            _ = try w.decodeServerMessage(
                w.encode(message(records([2, 3]), multiproof: [UInt8](repeating: 3, count: 17 * 32))))
        }
        #expect(
            try w.decodeServerMessage(
                w.encode(message(records([2, 3]), multiproof: [UInt8](repeating: 3, count: 16 * 32))))
                == message(records([2, 3]), multiproof: [UInt8](repeating: 3, count: 16 * 32)))
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "neighbourCount", count: 5, maximum: 4))) {
            _ = try w.decodeServerMessage(w.encode(message(records([2, 3, 4, 5, 6]))))
        }
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "neighbour", index: 2))) {
            _ = try w.decodeServerMessage(w.encode(message(records([2, 3, 2]))))
        }
        #expect(try w.decodeServerMessage(w.encode(message(records([2, 3, 4, 5])))) == message(records([2, 3, 4, 5])))
        // w-seed-reveals-sparse: SeedReveals (0x89) belong to sparse active-model sessions only.
        let reveals = ServerMessage.seedReveals(
            sessionId: sid, contributions: [SeedContribution(index: 1, contribution: [UInt8](repeating: 5, count: 32))])
        #expect(
            throws: SecAggError.wire(
                .invalidField(field: "tag", reason: "seed reveals outside an active-model session with a sparse graph"))
        ) { _ = try w.decodeServerMessage(w.encode(reveals)) }
    }

    /// w-reveal-count: in a sparse active-model session, SeedReveals (0x89) lists at most n contributions,
    /// ascending.
    @Test func seedRevealListsAreBoundedAndAscending() throws {
        let h = try Harness(n: 12, t: 4, model: .active, label: "mk wire seed reveals", graph: .harary(degree: 6))
        let w = h.wire
        let sid = [UInt8](repeating: 1, count: 32)
        func reveals(_ indices: [UInt32]) -> ServerMessage {
            .seedReveals(
                sessionId: sid,
                contributions: indices.map {
                    SeedContribution(index: $0, contribution: [UInt8](repeating: 5, count: 32))
                })
        }
        let all = Array(UInt32(1)...12)
        #expect(try w.decodeServerMessage(w.encode(reveals(all))) == reveals(all))
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "contributionCount", count: 13, maximum: 12))) {
            _ = try w.decodeServerMessage(w.encode(reveals(all + [12])))
        }
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "contribution", index: 2))) {
            _ = try w.decodeServerMessage(w.encode(reveals([1, 2, 2])))
        }
    }

    /// w-signature-count-active, w-ascending-signers: active sessions limit signature lists to k, ascending.
    @Test func signatureListsAreBoundedAndAscending() throws {
        let h = try Harness(n: 5, t: 3, model: .active, label: "mk wire signatures")
        let w = h.wire
        let sid = [UInt8](repeating: 1, count: 32)
        let sig = [UInt8](repeating: 4, count: 64)
        let five = (UInt32(1)...5).map { ConsistencySignatureEntry(signer: $0, signature: sig) }
        #expect(throws: SecAggError.wire(.countOutOfRange(field: "signatureCount", count: 5, maximum: 4))) {
            _ = try w.decodeServerMessage(
                w.encode(.unmaskingRequest(sessionId: sid, recipient: 1, dropped: [], survivors: [2], signatures: five))
            )
        }
        let repeated = [2, 3, 3].map { ConsistencySignatureEntry(signer: UInt32($0), signature: sig) }
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "signer", index: 3))) {
            _ = try w.decodeServerMessage(
                w.encode(
                    .unmaskingRequest(sessionId: sid, recipient: 1, dropped: [], survivors: [2], signatures: repeated)))
        }
    }

    /// w-ascending-indices, w-ascending-complaints, w-ascending-owners, w-ascending-keys, w-keys-index-range: every
    /// list repeats no index, and key-list entries are for clients 1...n.
    @Test func listsWithARepeatedIndexAreRefused() throws {
        var h = try Harness(n: 5, t: 3, label: "mk wire ascending")
        let w = h.wire
        let sid = [UInt8](repeating: 1, count: 32)
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "dropped", index: 2))) {
            _ = try w.decodeServerMessage(
                w.encode(
                    .unmaskingRequest(sessionId: sid, recipient: 1, dropped: [2, 2], survivors: [], signatures: [])))
        }
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "survivors", index: 3))) {
            _ = try w.decodeServerMessage(
                w.encode(
                    .unmaskingRequest(sessionId: sid, recipient: 1, dropped: [], survivors: [3, 3], signatures: [])))
        }
        let seed = SecretBytes(copying: [UInt8](repeating: 2, count: 32))
        let zero = h.configuration.inputs.map { [UInt64](repeating: 0, count: $0.length) }
        let complaints = [2, 2].map { ShareComplaint(sender: UInt32($0), pairwiseMaskSeed: seed) }
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "complaint", index: 2))) {
            _ = try w.decodeClientMessage(
                try w.encode(.maskedInput(sessionId: sid, sender: 1, complaints: complaints, vectors: zero)))
        }
        let share = try Self.share(x: 1)
        let owners = [3, 3].map { RevealedShare(owner: UInt32($0), share: share) }
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "selfMaskShares", index: 3))) {
            _ = try w.decodeClientMessage(
                try w.encode(
                    .unmaskingResponse(sessionId: sid, sender: 1, maskingKeyShares: [], selfMaskShares: owners)))
        }
        try h.run(until: .shareKeys)
        guard case let .keysBroadcast(digest, keys) = try Self.pending(h, to: 1) else { return }
        let entries = keys.entries
        let repeated = KeyBroadcast(entries: [entries[0], entries[1], entries[1]], signed: false, committed: false)
        #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "keys", index: 2))) {
            _ = try w.decodeServerMessage(w.encode(.keysBroadcast(configurationDigest: digest, keys: repeated)))
        }
        var beyond = entries
        beyond[4].index = 6
        let outOfRange = KeyBroadcast(entries: beyond, signed: false, committed: false)
        #expect(throws: SecAggError.wire(.indexOutOfRange(field: "keys", index: 6, clientCount: 5))) {
            _ = try w.decodeServerMessage(w.encode(.keysBroadcast(configurationDigest: digest, keys: outOfRange)))
        }
    }

    /// w-seed-reveal-sparse, w-seed-reveals-sparse, w-index-range: seed-reveal messages exist only on sparse
    /// graphs, and index 0 is no client.
    @Test func seedRevealMessagesOnlyOnSparseGraphsAndNoIndexZero() throws {
        let h = try Harness(n: 5, t: 3, label: "mk wire sparse only")
        let w = h.wire
        let sid = [UInt8](repeating: 1, count: 32)
        let r = [UInt8](repeating: 3, count: 32)
        #expect(
            throws: SecAggError.wire(
                .invalidField(field: "tag", reason: "seed reveal in a session without a sparse graph"))
        ) {
            _ = try w.decodeClientMessage(try w.encode(.seedReveal(sessionId: sid, sender: 1, contribution: r)))
        }
        #expect(
            throws: SecAggError.wire(
                .invalidField(field: "tag", reason: "neighbourhood outside a semi-honest session with a sparse graph"))
        ) {
            _ = try w.decodeServerMessage(
                w.encode(
                    .neighbourhood(
                        sessionId: sid, recipient: 1, revealRoot: sid, proof: [], ringRoot: sid, neighbours: [],
                        multiproof: [])))
        }
        #expect(throws: SecAggError.wire(.indexOutOfRange(field: "recipient", index: 0, clientCount: 5))) {
            _ = try w.decodeServerMessage(
                w.encode(.unmaskingRequest(sessionId: sid, recipient: 0, dropped: [], survivors: [], signatures: [])))
        }
    }

    /// w-bitmap-padding, w-bitmap-length: a client-set bitmap has exactly ⌈n/8⌉ bytes and no bit above n.
    @Test func clientSetBitmapsHaveTheExactLengthAndNoPadding() throws {
        #expect(throws: WireFormatError.invalidField(field: "bitmap", reason: "nonzero padding bits")) {
            _ = try ClientSet(clientCount: 5, bitmap: [0b0010_0001])
        }
        #expect(throws: WireFormatError.invalidField(field: "bitmap", reason: "length 2 for 5 clients")) {
            _ = try ClientSet(clientCount: 5, bitmap: [0b0000_0001, 0])
        }
        #expect(Array(try ClientSet(clientCount: 5, bitmap: [0b0001_0001])) == [1, 5])
        let h = try Harness(n: 5, t: 3, label: "mk wire bitmap")
        var bytes = h.wire.encode(
            .consistencyRequest(
                sessionId: [UInt8](repeating: 1, count: 32), survivors: ClientSet(clientCount: 5, members: [1, 2, 3])))
        bytes[bytes.count - 1] |= 0x80
        #expect(throws: SecAggError.wire(.invalidField(field: "bitmap", reason: "nonzero padding bits"))) {
            _ = try h.wire.decodeServerMessage(bytes)
        }
    }
}
