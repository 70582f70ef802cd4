import SecAggCrypto

/// Round 1: collecting each client's encrypted shares for its live neighbours, and its self-mask commitment.
struct ShareKeysRound: Sendable {
    var session: ServerSession
    let u1: ClientSet
    /// Ciphertexts by recipient.
    private var inbox: [UInt32: [EncryptedShare]] = [:]
    private var commitments: [UInt32: [UInt8]] = [:]

    init(session: ServerSession, u1: ClientSet) {
        self.session = session
        self.u1 = u1
    }

    mutating func accept(_ message: ClientMessage, from sender: UInt32) throws(SecAggError) {
        guard case let .shareKeys(sid, _, commitment, shares) = message, sid == session.sessionId else {
            throw .wrongSession
        }
        let expected = session.neighbours(of: sender).filter { u1.contains($0) }
        guard shares.map(\.peer) == expected else {
            throw .invalidClientMessage(
                sender: sender, reason: "shares must address exactly its \(expected.count) live neighbours")
        }
        for s in shares {
            inbox[s.peer, default: []].append(EncryptedShare(peer: sender, ciphertext: s.ciphertext))
        }
        commitments[sender] = commitment
    }

    /// Closes round 1 with U2: forwards to each client of U2 the ciphertexts from its neighbours in U2.
    func close(u2: ClientSet) -> (ServerPhase, ServerOutbox) {
        var outbox = ServerOutbox()
        // Made as the transport reads them: n · k boxes are held once, in the inbox, not again in the outbox.
        let (inbox, sessionId) = (inbox, session.sessionId)
        @Sendable func forwarded(to w: UInt32) -> [EncryptedShare] {
            (inbox[w] ?? []).filter { u2.contains($0.peer) }.sorted { $0.peer < $1.peer }
        }
        outbox.direct = OutboxMessages(
            recipients: u2.ids,
            make: { w in .sharesForward(sessionId: sessionId, recipient: w.rawValue, shares: forwarded(to: w.rawValue)) },
            byteCount: { w in
                let count = (inbox[w.rawValue] ?? []).reduce(0) { $0 + (u2.contains($1.peer) ? 1 : 0) }
                return 2 + 32 + 4 + 4 + count * (4 + shareCiphertextByteCount)
            })
        var next = session
        next.liveCounts[.shareKeys] = u2.count
        return (.maskedInput(MaskedInputRound(session: next, u2: u2, commitments: commitments)), outbox)
    }
}
