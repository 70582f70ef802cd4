import SecAggCrypto

/// The forwarded shares are open: what masking the input needs. The share-encryption keys are gone.
struct SharesReceived: Sendable {
    let sessionId: [UInt8]
    let maskingKey: X25519.PrivateKey
    let selfMaskSeed: SecretBytes
    let neighbours: [UInt32]
    let neighbourKeys: [UInt32: AdvertisedKeys]
    /// Shares held for neighbours that sent them (the client's view of N(u) ∩ U2, less complaints).
    let held: [UInt32: (maskingKey: ShamirShare, selfMask: ShamirShare)]
    /// Neighbours whose forwarded ciphertext did not open: reported with the masked input.
    let failed: [UInt32]
}

extension SharesSent {
    /// Opens the forwarded ciphertexts. One that does not open, or opens to malformed shares, costs this client
    /// that one neighbour (reported with the masked input), not the session (SPEC.md §11.3 round 2).
    func open(_ shares: [EncryptedShare], context: ClientContext) throws(SecAggError) -> SharesReceived {
        var held: [UInt32: (maskingKey: ShamirShare, selfMask: ShamirShare)] = [:]
        var failed: [UInt32] = []
        for entry in shares {
            guard let peer = neighbourKeys[entry.peer] else {
                throw .inconsistentServerMessage(reason: "shares from client \(entry.peer), not a live neighbour")
            }
            guard let pair = open(entry, peerKey: peer.encryptionKey, index: context.index) else {
                failed.append(entry.peer)
                continue
            }
            held[entry.peer] = pair
        }
        guard held.count >= context.threshold else {
            throw .insufficientClients(round: .maskedInputCollection, count: held.count, required: context.threshold)
        }
        return SharesReceived(
            sessionId: sessionId, maskingKey: maskingKey, selfMaskSeed: selfMaskSeed, neighbours: neighbours,
            neighbourKeys: neighbourKeys, held: held, failed: failed)
    }

    /// Opens one forwarded ciphertext; nil when it fails authentication or holds malformed shares.
    private func open(_ entry: EncryptedShare, peerKey: X25519.PublicKey, index: UInt32)
        -> (maskingKey: ShamirShare, selfMask: ShamirShare)?
    {
        let plaintext: SecretBytes
        do {
            let key: SecretBytes
            if let cached = shareEncryptionKeys[entry.peer] {
                key = cached
            } else {
                let shared = try encryptionKey.sharedSecret(with: peerKey)
                key = try KeyDerivation.shareEncryptionKey(
                    sharedSecret: shared, sessionId: sessionId, index, entry.peer)
            }
            let ad = ShareAssociatedData(
                sessionId: sessionId, sender: entry.peer, recipient: index, purpose: .keyShares)
            plaintext = try Aead.open(entry.ciphertext, key: key, associatedData: ad.bytes)
        } catch {
            return nil
        }
        var bytes = plaintext.unsafeExportedBytes()
        defer { secureZero(&bytes) }
        guard bytes.count == 2 * shareByteCount,
            let keyShare = try? ShamirShare(encoded: Array(bytes[0..<shareByteCount]), secretByteCount: 32),
            let seedShare = try? ShamirShare(encoded: Array(bytes[shareByteCount...]), secretByteCount: 32),
            keyShare.x == index, seedShare.x == index
        else {
            return nil
        }
        return (keyShare, seedShare)
    }
}

extension SharesReceived {
    /// y_u = x_u + PRG(b_u) + Σ_{v < u} PRG(s_uv) − Σ_{v > u} PRG(s_uv) over the neighbours whose shares opened
    /// (SPEC.md §11.3); the pairwise seeds of the others are disclosed with the complaint.
    func maskInput(_ input: [[UInt64]], context: ClientContext, concurrency: Int) throws(SecAggError)
        -> (InputSent, ClientMessage)
    {
        let index = context.index
        var jobs: [MaskJob] = [MaskJob(seed: selfMaskSeed, negate: false)]
        var complaints: [ShareComplaint] = []
        let peers = (Array(held.keys) + failed).sorted().compactMap { v in neighbourKeys[v].map { (v, $0.maskingKey) } }
        let failedSet = Set(failed)
        do {
            let sharedSecrets = try maskingKey.sharedSecrets(with: peers.map(\.1))
            for ((v, _), shared) in zip(peers, sharedSecrets) {
                let seed = try KeyDerivation.pairwiseMaskSeed(sharedSecret: shared, sessionId: sessionId, index, v)
                if failedSet.contains(v) {
                    complaints.append(ShareComplaint(sender: v, pairwiseMaskSeed: seed))
                } else {
                    jobs.append(MaskJob(seed: seed, negate: v > index))
                }
            }
        } catch {
            throw .crypto(error)
        }
        var vectors = input
        do {
            try MaskApplication.apply(
                jobs, to: &vectors, inputs: context.configuration.inputs, concurrency: concurrency)
        } catch {
            throw .crypto(error)
        }
        let sent = InputSent(
            sessionId: sessionId, neighbours: Set(neighbours), heldShares: held, complainedAbout: failedSet,
            signedSurvivors: nil)
        return (sent, .maskedInput(sessionId: sessionId, sender: index, complaints: complaints, vectors: vectors))
    }
}
