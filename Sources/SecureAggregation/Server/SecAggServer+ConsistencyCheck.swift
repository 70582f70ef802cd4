import SecAggCrypto

/// Round 3 (active model): collecting the signatures of U3 over the survivor set (SPEC.md §11.3).
struct ConsistencyCheckRound: Sendable {
    var masked: MaskedSum
    private var signatures: [UInt32: [UInt8]] = [:]

    init(masked: MaskedSum) { self.masked = masked }

    mutating func accept(_ message: ClientMessage, from sender: UInt32) throws(SecAggError) {
        let session = masked.session
        guard case let .consistencySignature(sid, _, signature) = message, sid == session.sessionId else {
            throw .wrongSession
        }
        let signed = ConsistencyCheck.signedBytes(sessionId: sid, signer: sender, survivors: masked.u3)
        guard session.configuration.verificationKeys[Int(sender) - 1].isValidSignature(signature, for: signed) else {
            throw .badSignature(signer: sender, round: .consistencyCheck)
        }
        signatures[sender] = signature
    }

    /// Closes round 3 with U4: the unmasking requests go to U4 with the signatures of each recipient's neighbours.
    consuming func close(u4: ClientSet) -> (ServerPhase, ServerOutbox) {
        masked.session.liveCounts[.consistencyCheck] = u4.count
        var outbox = ServerOutbox()
        outbox.direct = OutboxMessages(masked.unmaskingRequests(to: u4, signatures: signatures))
        return (.unmasking(UnmaskingRound(masked: masked, eligible: u4)), outbox)
    }
}
