import SecAggCrypto

extension InputSent {
    /// Checks the unmasking request and reveals, for each listed neighbour, the one share the request may have:
    /// the masking-key share of a dropped neighbour or the self-mask share of a surviving one (SPEC.md §11.3
    /// round 4).
    func reveal(
        dropped: [UInt32], survivors: [UInt32], signatures: [ConsistencySignatureEntry], context: ClientContext
    ) throws(SecAggError) -> ClientMessage {
        let droppedSet = Set(dropped)
        let survivorSet = Set(survivors)
        // The same peer may never be both dropped and alive: that would reveal both of its secrets.
        if let both = droppedSet.intersection(survivorSet).min() { throw .conflictingShareRequest(peer: both) }
        // Survivor sets only shrink: every listed peer must be one that shared keys with us, and every such peer
        // must be classified.
        for v in dropped + survivors where heldShares[v] == nil {
            throw .inconsistentServerMessage(reason: "client \(v) is not among the clients that shared keys")
        }
        guard droppedSet.count + survivorSet.count == heldShares.count else {
            throw .inconsistentServerMessage(reason: "the request does not classify every neighbour that shared keys")
        }
        guard survivorSet.count >= context.threshold else {
            throw .insufficientClients(round: .unmasking, count: survivorSet.count, required: context.threshold)
        }
        if context.isActive {
            try checkSignatures(signatures, dropped: dropped, survivors: survivors, context: context)
        }
        let keyShares = dropped.compactMap { v in heldShares[v].map { RevealedShare(owner: v, share: $0.maskingKey) } }
        let seedShares = survivors.compactMap { v in heldShares[v].map { RevealedShare(owner: v, share: $0.selfMask) } }
        return .unmaskingResponse(
            sessionId: sessionId, sender: context.index, maskingKeyShares: keyShares, selfMaskShares: seedShares)
    }

    /// Active model: the lists must agree with the survivor set this client signed, and t distinct live
    /// neighbours must have signed that same set.
    private func checkSignatures(
        _ signatures: [ConsistencySignatureEntry], dropped: [UInt32], survivors: [UInt32], context: ClientContext
    ) throws(SecAggError) {
        guard let signed = signedSurvivors else { throw .invalidConfiguration(reason: "no signed survivor set") }
        for v in survivors where !signed.contains(v) {
            throw .inconsistentServerMessage(reason: "survivor \(v) was not in the signed survivor set")
        }
        for v in dropped where signed.contains(v) {
            throw .inconsistentServerMessage(reason: "dropped client \(v) was in the signed survivor set")
        }
        // Distinct signers count, not entries: one signature repeated t times is one signer (the wire decoder
        // refuses repeats, but a transport may hand the typed message in directly).
        var signers = Set<UInt32>()
        for entry in signatures {
            guard signers.insert(entry.signer).inserted else {
                throw .inconsistentServerMessage(reason: "client \(entry.signer) signed twice")
            }
            guard neighbours.contains(entry.signer), signed.contains(entry.signer) else {
                throw .inconsistentServerMessage(reason: "signature from client \(entry.signer), not a live neighbour")
            }
            let message = ConsistencyCheck.signedBytes(sessionId: sessionId, signer: entry.signer, survivors: signed)
            let key = context.configuration.verificationKeys[Int(entry.signer) - 1]
            guard key.isValidSignature(entry.signature, for: message) else {
                throw .badSignature(signer: entry.signer, round: .consistencyCheck)
            }
        }
        guard signers.count >= context.threshold else {
            throw .insufficientSignatures(count: signers.count, required: context.threshold)
        }
    }
}
