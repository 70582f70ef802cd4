import SecAggCrypto

/// Round 2 sent: the shares held for the neighbours, kept until the unmasking request.
struct InputSent: Sendable {
    let sessionId: [UInt8]
    /// N(u).
    let neighbours: Set<UInt32>
    /// Shares held for neighbours that sent them (the client's view of N(u) ∩ U2, less complaints).
    let heldShares: [UInt32: (maskingKey: ShamirShare, selfMask: ShamirShare)]
    /// Neighbours whose forwarded ciphertext did not open: left out of every later list.
    let complainedAbout: Set<UInt32>
    /// Active model: the survivor set U3 this client signed in round 3.
    var signedSurvivors: ClientSet?

    /// Checks U3 and signs it (SPEC.md §11.3 round 3).
    func sign(_ survivors: ClientSet, signingKey: Ed25519.PrivateKey, context: ClientContext) throws(SecAggError)
        -> (InputSent, ClientMessage)
    {
        let index = context.index
        guard survivors.clientCount == context.configuration.clientCount, survivors.contains(index) else {
            throw .inconsistentServerMessage(reason: "survivor set does not contain this client")
        }
        var liveNeighbours = 0
        for v in neighbours.sorted() where survivors.contains(v) {
            // A survivor this client complained about is allowed (its ciphertext reached us but did not open);
            // it just does not count towards t.
            if complainedAbout.contains(v) { continue }
            guard heldShares[v] != nil else {
                throw .inconsistentServerMessage(reason: "survivor \(v) never shared keys with this client")
            }
            liveNeighbours += 1
        }
        guard liveNeighbours >= context.threshold else {
            throw .insufficientClients(round: .consistencyCheck, count: liveNeighbours, required: context.threshold)
        }
        var signed = self
        signed.signedSurvivors = survivors
        let signature = signingKey.signature(
            for: ConsistencyCheck.signedBytes(sessionId: sessionId, signer: index, survivors: survivors))
        return (signed, .consistencySignature(sessionId: sessionId, sender: index, signature: signature))
    }
}
