import SecAggCrypto
import SecureAggregation
import Testing

/// λ_i(0) for the basis `xs` (public x-coordinates), i the position of `x` in it.
private func lagrangeAtZero(_ x: UInt32, basis xs: [UInt32]) -> UInt64 {
    var result: UInt64 = 1
    for other in xs where other != x {
        let numerator = Mersenne61.subtract(0, UInt64(other))
        let denominator = Mersenne61.subtract(UInt64(x), UInt64(other))
        result = Mersenne61.multiply(result, Mersenne61.multiply(numerator, Mersenne61.inverse(denominator)))
    }
    return result
}

/// `share` with `delta` added (mod p) to the value of chunk `chunk`.
private func shifted(_ share: ShamirShare, chunk: Int = 0, by delta: UInt64) throws -> ShamirShare {
    var bytes = share.encoded()
    let offset = 4 + 8 * chunk
    var value: UInt64 = 0
    for k in 0..<8 { value |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
    value = Mersenne61.add(value, delta)
    for k in 0..<8 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
    return try ShamirShare(encoded: bytes, secretByteCount: 32)
}

/// Rewrites the unmasking responses held in `h.replies`: the share of `owner`'s secret of `kind` revealed by
/// `client` is shifted by `delta`.
private func tamper(
    _ h: inout Harness, client: UInt32, owner: UInt32, kind: ShareKind, delta: UInt64
) throws {
    let position = try #require(h.replies.firstIndex { $0.sender == client })
    guard case let .unmaskingResponse(sid, sender, keyShares, seedShares) = h.replies[position].message else {
        Issue.record("no unmasking response from \(client)")
        return
    }
    func edit(_ list: [RevealedShare], _ listKind: ShareKind) throws -> [RevealedShare] {
        try list.map { entry in
            guard entry.owner == owner, listKind == kind else { return entry }
            return RevealedShare(owner: owner, share: try shifted(entry.share, by: delta))
        }
    }
    h.replies[position].message = .unmaskingResponse(
        sessionId: sid, sender: sender, maskingKeyShares: try edit(keyShares, .maskingKey),
        selfMaskShares: try edit(seedShares, .selfMaskSeed))
}

/// A harness whose unmasking responses are held in `replies`: `dropAfterShareKeys` send no masked input,
/// `silentAtUnmasking` do not answer the unmasking request.
private func harnessWithUnmaskingResponses(
    n: Int, t: Int, label: String, dropAfterShareKeys: Set<UInt32> = [], silentAtUnmasking: Set<UInt32> = []
) throws -> Harness {
    var h = try Harness(n: n, t: t, label: label)
    try h.run(until: .maskedInputCollection)
    try h.deliver(skipping: dropAfterShareKeys)
    try h.advance()
    try h.deliver(skipping: silentAtUnmasking)
    return h
}

@Suite("verifiable reconstruction and bad shares (issue 11, SPEC.md §11.4)")
struct VerifiableReconstructionTests {
    /// Exactly t shares of client 1's self-mask seed arrive (clients 5 and 6 stay silent) and client 2 shifts its
    /// share so that the interpolated seed is off by one in its first byte, which passes every check shares alone
    /// allow. Without the commitment this gave a silently wrong sum; now the reconstructed seed does not open the
    /// commitment, no share can be corrected or left out, and the session aborts naming client 1.
    @Test func exactlyTSharesWithABadOneAbortNeverASilentlyWrongSum() throws {
        var h = try harnessWithUnmaskingResponses(n: 6, t: 3, label: "exactly t", silentAtUnmasking: [5, 6])
        let delta = Mersenne61.inverse(lagrangeAtZero(2, basis: [2, 3, 4]))
        try tamper(&h, client: 2, owner: 1, kind: .selfMaskSeed, delta: delta)
        #expect(throws: SecAggError.reconstructionFailed(owner: 1, kind: .selfMaskSeed)) { try h.advance() }
        #expect(h.server.result == nil)
    }

    /// t + 1 shares, one bad: the extra share reveals the inconsistency and leaving each share out in turn finds
    /// the one whose removal reconstructs the committed seed. The sum is exact and client 2 is named.
    @Test func tPlusOneSharesWithABadOneAreCorrected() throws {
        var h = try harnessWithUnmaskingResponses(n: 6, t: 3, label: "t plus one", silentAtUnmasking: [6])
        try tamper(&h, client: 2, owner: 1, kind: .selfMaskSeed, delta: 12_345)
        try h.advance()
        let result = try #require(h.server.result)
        #expect(result.vectors == h.expectedSum(of: Array(1...6)))
        #expect(
            result.flaggedClients == [FlaggedClient(client: 2, reason: .invalidShare(owner: 1, kind: .selfMaskSeed))])
    }

    /// Many shares and two bad ones, in two different secrets' shares: decoding with errors (Gao) corrects both
    /// and names the senders.
    @Test func decodingCorrectsSeveralBadShares() throws {
        var h = try harnessWithUnmaskingResponses(n: 9, t: 3, label: "gao", dropAfterShareKeys: [9])
        try tamper(&h, client: 2, owner: 1, kind: .selfMaskSeed, delta: 7)
        try tamper(&h, client: 3, owner: 1, kind: .selfMaskSeed, delta: 99)
        try tamper(&h, client: 4, owner: 9, kind: .maskingKey, delta: 5)
        try h.advance()
        let result = try #require(h.server.result)
        #expect(result.vectors == h.expectedSum(of: Array(1...8)))
        #expect(
            result.flaggedClients == [
                FlaggedClient(client: 2, reason: .invalidShare(owner: 1, kind: .selfMaskSeed)),
                FlaggedClient(client: 3, reason: .invalidShare(owner: 1, kind: .selfMaskSeed)),
                FlaggedClient(client: 4, reason: .invalidShare(owner: 9, kind: .maskingKey)),
            ])
    }

    /// A bad share that is not among the t that suffice is still checked and named (the server reconstructs from
    /// t + 1 shares whenever it has them).
    @Test func aBadExtraShareIsNamed() throws {
        var h = try harnessWithUnmaskingResponses(n: 6, t: 3, label: "bad extra share", silentAtUnmasking: [6])
        // b_1's shares come from 2, 3, 4, 5: the fourth by x is client 5's.
        try tamper(&h, client: 5, owner: 1, kind: .selfMaskSeed, delta: 1)
        try h.advance()
        let result = try #require(h.server.result)
        #expect(result.vectors == h.expectedSum(of: Array(1...6)))
        #expect(
            result.flaggedClients == [FlaggedClient(client: 5, reason: .invalidShare(owner: 1, kind: .selfMaskSeed))])
    }

    /// Two colluding share-holders shift their shares by a polynomial of degree t − 1 that vanishes at the other
    /// responders, so all t + 1 shares stay consistent and point at another secret. Only the owner's commitment
    /// (self-mask seed) or advertised public key (masking key) tells; the session aborts naming the owner rather
    /// than removing the wrong mask.
    @Test(arguments: [ShareKind.selfMaskSeed, .maskingKey])
    func colludingShareHoldersCannotShiftASecret(_ kind: ShareKind) throws {
        // Client 6 drops after sharing keys; clients 1–4 answer the unmasking request.
        var h = try harnessWithUnmaskingResponses(
            n: 6, t: 3, label: "collusion \(kind)", dropAfterShareKeys: [6], silentAtUnmasking: [5])
        // Owner 5's seed shares come from 1–4; owner 6's masking-key shares too. e(X) = c (X − 3)(X − 4),
        // with e(0) = 12c = 1.
        let owner: UInt32 = kind == .selfMaskSeed ? 5 : 6
        let c = Mersenne61.inverse(12)
        try tamper(&h, client: 1, owner: owner, kind: kind, delta: Mersenne61.multiply(6, c))
        try tamper(&h, client: 2, owner: owner, kind: kind, delta: Mersenne61.multiply(2, c))
        #expect(throws: SecAggError.reconstructionFailed(owner: owner, kind: kind)) { try h.advance() }
        #expect(h.server.result == nil)
    }

    @Test func errorCorrectionMatchesPlainReconstructionAndNamesBadShares() throws {
        var rng = DeterministicRandomGenerator(testLabel: "gao unit")
        for t in [1, 2, 3, 7] {
            for m in [t, t + 1, t + 2, t + 5] {
                let secret = SecretBytes(randomByteCount: 32, using: &rng)
                let xs = (1...m).map { UInt32($0 * 3 + 1) }
                var shares = try ShamirSecretSharing.split(secret: secret, threshold: t, xCoordinates: xs, using: &rng)
                let errors = (m - t) / 2
                for e in 0..<errors { shares[e * 2] = try shifted(shares[e * 2], chunk: e % 5, by: 1 + UInt64(e)) }
                let decoded = try #require(
                    ShamirSecretSharing.reconstructCorrectingErrors(shares, threshold: t, secretByteCount: 32) {
                        $0 == secret
                    }, "t = \(t), m = \(m)")
                #expect(decoded.secret == secret)
                #expect(decoded.faultyShares == (0..<errors).map { xs[$0 * 2] })
            }
        }
        // Beyond the radius and with exactly t shares, nothing is accepted.
        let secret = SecretBytes(randomByteCount: 32, using: &rng)
        var shares = try ShamirSecretSharing.split(secret: secret, threshold: 3, xCoordinates: [1, 2, 3], using: &rng)
        shares[0] = try shifted(shares[0], by: 1)
        #expect(
            ShamirSecretSharing.reconstructCorrectingErrors(shares, threshold: 3, secretByteCount: 32) { $0 == secret }
                == nil)
    }
}

@Suite("share ciphertexts that do not open (issue 11, SPEC.md §11.3 round 2)")
struct ShareComplaintTests {
    /// Replaces the ciphertexts client `sender` addressed to `recipients` (in the held ShareKeys replies) with
    /// garbage of the right length.
    private static func garble(_ h: inout Harness, sender: UInt32, to recipients: Set<UInt32>) throws {
        let position = try #require(h.replies.firstIndex { $0.sender == sender })
        guard case let .shareKeys(sid, u, commitment, shares) = h.replies[position].message else { return }
        let garbage = shares.map { s in
            recipients.contains(s.peer)
                ? EncryptedShare(peer: s.peer, ciphertext: [UInt8](repeating: 0xA5, count: s.ciphertext.count)) : s
        }
        h.replies[position].message = .shareKeys(
            sessionId: sid, sender: u, selfMaskCommitment: commitment, shares: garbage)
    }

    private static func run(
        n: Int = 6, t: Int = 3, label: String, garbling: [(sender: UInt32, recipients: Set<UInt32>)],
        dropAfterShareKeys: Set<UInt32> = []
    ) throws -> (Harness, Result<AggregationResult?, any Error>) {
        var h = try Harness(n: n, t: t, label: label)
        try h.run(until: .shareKeys)
        try h.deliver()
        for (sender, recipients) in garbling { try garble(&h, sender: sender, to: recipients) }
        try h.advance()
        try h.deliver(skipping: dropAfterShareKeys)
        let copy = h
        return (copy, Result { try h.finish() })
    }

    @Test func oneBadCiphertextCostsTheRecipientOnlyThatSender() throws {
        let (h, outcome) = try Self.run(label: "garble one", garbling: [(3, [1])])
        let complaints = h.replies.compactMap { reply -> [UInt32]? in
            guard case let .maskedInput(_, sender, complaints, _) = reply.message, sender == 1 else { return nil }
            return complaints.map(\.sender)
        }
        #expect(complaints == [[3]])
        let result = try #require(try outcome.get())
        #expect(result.includedClients.map(\.rawValue) == Array(1...6))
        #expect(result.vectors == h.expectedSum(of: Array(1...6)))
        #expect(result.flaggedClients == [FlaggedClient(client: 3, reason: .undecryptableShares(reporter: 1))])
    }

    @Test func complaintsAboutADroppedClientAndMutualComplaintsStillGiveTheExactSum() throws {
        // Client 3 garbles to 1 and 2 and then drops before its masked input; clients 4 and 5 garble to each other.
        let (h, outcome) = try Self.run(
            label: "garble dropped", garbling: [(3, [1, 2]), (4, [5]), (5, [4])], dropAfterShareKeys: [3])
        let result = try #require(try outcome.get())
        #expect(result.includedClients.map(\.rawValue) == [1, 2, 4, 5, 6])
        #expect(result.vectors == h.expectedSum(of: [1, 2, 4, 5, 6]))
        #expect(
            Set(result.flaggedClients) == [
                FlaggedClient(client: 3, reason: .undecryptableShares(reporter: 1)),
                FlaggedClient(client: 3, reason: .undecryptableShares(reporter: 2)),
                FlaggedClient(client: 4, reason: .undecryptableShares(reporter: 5)),
                FlaggedClient(client: 5, reason: .undecryptableShares(reporter: 4)),
            ])
    }

    /// A client that garbles every ciphertext leaves nobody holding its shares: the server cannot remove its self
    /// mask and aborts naming it (it cannot take back a masked input already in the running sum), never with a
    /// wrong sum.
    @Test func aClientThatGarblesEverythingIsNamedByTheAbort() throws {
        let (_, outcome) = try Self.run(label: "garble all", garbling: [(3, [1, 2, 4, 5, 6])])
        #expect(throws: SecAggError.insufficientShares(owner: 3, kind: .selfMaskSeed, available: 0, threshold: 3)) {
            _ = try outcome.get()
        }
    }

    @Test func theServerRefusesComplaintsItCannotHaveCaused() throws {
        var h = try Harness(n: 6, t: 3, label: "complaint checks")
        try h.run(until: .maskedInputCollection, skip: [.shareKeys: [6]])
        try h.deliver()
        let position = try #require(h.replies.firstIndex { $0.sender == 1 })
        guard case let .maskedInput(sid, _, _, vectors) = h.replies[position].message else { return }
        let seed = SecretBytes(copying: [UInt8](repeating: 1, count: 32))
        // About client 6, whose ciphertext was never forwarded.
        #expect(throws: SecAggError.self) {
            try h.server.receive(
                .maskedInput(
                    sessionId: sid, sender: 1, complaints: [ShareComplaint(sender: 6, pairwiseMaskSeed: seed)],
                    vectors: vectors),
                from: 1)
        }
        // About so many that fewer than t neighbours remain.
        let many = [2, 3].map { ShareComplaint(sender: UInt32($0), pairwiseMaskSeed: seed) }
        #expect(throws: SecAggError.self) {
            try h.server.receive(.maskedInput(sessionId: sid, sender: 1, complaints: many, vectors: vectors), from: 1)
        }
        // Neither touched the sum: the honest run completes exactly.
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: Array(1...5)))
    }
}
