import SecAggCrypto

/// Round 1 sent: what opening the forwarded shares and masking the input need.
struct SharesSent: Sendable {
    let sessionId: [UInt8]
    let encryptionKey: X25519.PrivateKey
    let maskingKey: X25519.PrivateKey
    /// b_u.
    let selfMaskSeed: SecretBytes
    /// N(u), ascending. Only the client's own neighbourhood is kept: the graph itself is O(n).
    let neighbours: [UInt32]
    /// The live neighbours' advertisements.
    let neighbourKeys: [UInt32: AdvertisedKeys]
    /// c_uv for every live neighbour, derived once here and reused to open its box in round 2.
    let shareEncryptionKeys: [UInt32: SecretBytes]
}

extension ClientKeys {
    /// Checks the live neighbours' keys, shares s_u^SK and a fresh b_u among them, and encrypts each pair of
    /// shares for its recipient (SPEC.md §11.3 round 1).
    /// `entry(v)` is neighbour v's advertisement, nil when it did not advertise.
    func shareKeys(
        neighbours: [UInt32], entry entryOf: (UInt32) -> AdvertisedKeys?, sessionId sid: [UInt8],
        context: ClientContext, using rng: inout some RandomByteGenerator
    ) throws(SecAggError) -> (SharesSent, ClientMessage) {
        let index = context.index
        var live: [UInt32: AdvertisedKeys] = [:]
        var seenKeys = Set<[UInt8]>([encryptionKey.publicKey.rawRepresentation, maskingKey.publicKey.rawRepresentation])
        for v in neighbours {
            guard let entry = entryOf(v) else { continue }
            if context.isActive {
                let message = entry.signedBytes(configurationDigest: context.configurationDigest)
                guard context.configuration.verificationKeys[Int(v) - 1].isValidSignature(entry.signature, for: message)
                else {
                    throw .badSignature(signer: v, round: .advertiseKeys)
                }
            }
            // Distinct keys: a server that copies keys between clients is caught here.
            guard seenKeys.insert(entry.encryptionKey.rawRepresentation).inserted,
                seenKeys.insert(entry.maskingKey.rawRepresentation).inserted
            else {
                throw .inconsistentServerMessage(reason: "client \(v) advertised a key that is already in use")
            }
            live[v] = entry
        }
        guard live.count >= context.threshold else {
            throw .insufficientClients(round: .shareKeys, count: live.count, required: context.threshold)
        }

        // b_u and the shares of s_u^SK and b_u for every live neighbour.
        let seed = SecretBytes(randomByteCount: MaskPrg.seedByteCount, using: &rng)
        let commitment = selfMaskCommitment(sessionId: sid, owner: index, seed: seed)
        let recipients = live.keys.sorted()
        let keyShares: [ShamirShare]
        let seedShares: [ShamirShare]
        let sharedSecrets: [X25519.SharedSecret]
        do {
            keyShares = try ShamirSecretSharing.split(
                secret: maskingKey.rawRepresentation, threshold: context.threshold, xCoordinates: recipients,
                using: &rng)
            seedShares = try ShamirSecretSharing.split(
                secret: seed, threshold: context.threshold, xCoordinates: recipients, using: &rng)
            // One private key with every live neighbour: the agreements run as one batch.
            sharedSecrets = try encryptionKey.sharedSecrets(with: recipients.compactMap { live[$0]?.encryptionKey })
        } catch {
            throw .crypto(error)
        }
        guard sharedSecrets.count == recipients.count else {
            throw .invalidConfiguration(reason: "live neighbour keys missing")
        }
        var out: [EncryptedShare] = []
        out.reserveCapacity(recipients.count)
        var boxKeys: [UInt32: SecretBytes] = [:]
        for (i, v) in recipients.enumerated() {
            do {
                let key = try KeyDerivation.shareEncryptionKey(
                    sharedSecret: sharedSecrets[i], sessionId: sid, index, v)
                boxKeys[v] = key
                var plaintext = keyShares[i].encoded() + seedShares[i].encoded()
                defer { secureZero(&plaintext) }
                let ad = ShareAssociatedData(sessionId: sid, sender: index, recipient: v, purpose: .keyShares)
                let box = try Aead.seal(plaintext, key: key, associatedData: ad.bytes, using: &rng)
                out.append(EncryptedShare(peer: v, ciphertext: box))
            } catch {
                throw .crypto(error)
            }
        }
        let sent = SharesSent(
            sessionId: sid, encryptionKey: encryptionKey, maskingKey: maskingKey, selfMaskSeed: seed,
            neighbours: neighbours, neighbourKeys: live, shareEncryptionKeys: boxKeys)
        return (sent, .shareKeys(sessionId: sid, sender: index, selfMaskCommitment: commitment, shares: out))
    }
}
