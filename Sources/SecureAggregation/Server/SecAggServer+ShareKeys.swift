import SecAggCrypto
import SecAggGraph

/// Round 1: collecting each client's encrypted shares for its live neighbours, and its self-mask commitment.
struct ShareKeysRound: Sendable {
    var session: ServerSession
    let u1: ClientSet
    /// Each sender's ciphertexts as it sent them (one per live neighbour, ascending by recipient), by sender
    /// index (slot 0 unused): n · k boxes held once, in one buffer per sender, never regrouped.
    private var sent: [ShareBoxes]
    private var commitments: [UInt32: [UInt8]] = [:]

    init(session: ServerSession, u1: ClientSet) {
        self.session = session
        self.u1 = u1
        sent = Array(repeating: ShareBoxes(), count: session.configuration.clientCount + 1)
    }

    /// Takes a ShareKeys message, typed or as the decoder's flat body.
    mutating func accept(_ payload: ClientPayload, from sender: UInt32) throws(SecAggError) {
        let body: ShareKeysBody
        switch payload {
        case let .shareKeys(flat):
            guard flat.sessionId == session.sessionId else { throw .wrongSession }
            body = flat
        case let .message(.shareKeys(sid, _, commitment, shares)):
            guard sid == session.sessionId else { throw .wrongSession }
            // The typed API takes ciphertexts of any length; the wire format has one.
            guard let boxes = ShareBoxes(shares) else {
                throw .invalidClientMessage(
                    sender: sender, reason: "share ciphertexts must be \(shareCiphertextByteCount) bytes")
            }
            body = ShareKeysBody(sessionId: sid, sender: sender, selfMaskCommitment: commitment, boxes: boxes)
        case .message:
            throw .wrongSession
        }
        let expected = session.neighbours(of: sender).filter { u1.contains($0) }
        guard body.boxes.peers == expected else {
            throw .invalidClientMessage(
                sender: sender, reason: "shares must address exactly its \(expected.count) live neighbours")
        }
        sent[Int(sender)] = body.boxes
        commitments[sender] = body.selfMaskCommitment
    }

    /// Closes round 1 with U2: forwards to each client of U2 the ciphertexts from its neighbours in U2.
    func close(u2: ClientSet) -> (ServerPhase, ServerOutbox) {
        var outbox = ServerOutbox()
        // Made as the transport reads them: n · k boxes are held once, as they were received, not again in the
        // outbox. Each sender in U2 sent a box to every live neighbour of U1 ⊇ U2, ascending: the box for w is
        // found by binary search, and w's senders come ascending as the message requires. The encoded messages
        // are written straight from those buffers.
        let (sent, session, sessionId, graph) = (sent, session, session.sessionId, session.graph)
        let wire = WireFormat(configuration: session.configuration)
        @Sendable func senders(of w: UInt32) -> some Sequence<(peer: UInt32, ciphertext: ArraySlice<UInt8>)> {
            graph.neighbours(of: w).lazy.filter { u2.contains($0) }.compactMap { v in
                sent[Int(v)].position(of: w).map { (v, sent[Int(v)].ciphertext(at: $0)) }
            }
        }
        outbox.direct = OutboxMessages(
            recipients: u2.ids,
            make: { w in
                .sharesForward(
                    sessionId: sessionId, recipient: w.rawValue,
                    shares: senders(of: w.rawValue).map {
                        EncryptedShare(peer: $0.peer, ciphertext: Array($0.ciphertext))
                    })
            },
            encoded: { w in
                // The degree bounds the count (written after the boxes), so the neighbours are listed once.
                wire.encodeSharesForward(
                    sessionId: sessionId, recipient: w.rawValue, capacity: graph.degree, boxes: senders(of: w.rawValue))
            },
            byteCount: { w in
                2 + 32 + 4 + 4 + session.neighbourCount(of: w.rawValue, in: u2) * (4 + shareCiphertextByteCount)
            })
        var next = session
        next.liveCounts[.shareKeys] = u2.count
        return (.maskedInput(MaskedInputRound(session: next, u2: u2, commitments: commitments)), outbox)
    }
}
