import SecAggCrypto

/// Round 0 sent: the client's two key pairs and, on sparse graphs, its committed graph-seed contribution.
struct ClientKeys: Sendable {
    let encryptionKey: X25519.PrivateKey
    let maskingKey: X25519.PrivateKey
    /// r_u, hidden by its commitment until the advertised set is fixed (SPEC.md §11.2); empty on complete graphs.
    let seedContribution: [UInt8]

    /// Generates c_u, s_u (and r_u) and the round-0 message.
    static func generate(
        context: ClientContext, signingKey: Ed25519.PrivateKey?, using rng: inout some RandomByteGenerator
    ) -> (ClientKeys, ClientMessage) {
        let c = X25519.PrivateKey(using: &rng)
        let s = X25519.PrivateKey(using: &rng)
        let sparse = context.configuration.isSparse
        let contribution = sparse ? rng.bytes(count: SeedContribution.byteCount) : []
        var keys = AdvertisedKeys(
            index: context.index, encryptionKey: c.publicKey, maskingKey: s.publicKey, signature: [])
        if sparse {
            keys.seedCommitment = SeedContribution.commitment(
                configurationDigest: context.configurationDigest, index: context.index, contribution: contribution)
        }
        if let signingKey {
            keys.signature = signingKey.signature(
                for: keys.signedBytes(configurationDigest: context.configurationDigest))
        }
        return (
            ClientKeys(encryptionKey: c, maskingKey: s, seedContribution: contribution),
            .advertiseKeys(configurationDigest: context.configurationDigest, keys: keys)
        )
    }

    /// Checks that the broadcast carries this client's own advertisement unchanged; returns the session id.
    func checkOwnEntry(in keys: KeyBroadcast, context: ClientContext) throws(SecAggError) -> [UInt8] {
        let digest = context.configurationDigest
        guard let own = keys.entry(for: context.index),
            own.encryptionKey == encryptionKey.publicKey, own.maskingKey == maskingKey.publicKey,
            own.seedCommitment
                == (context.configuration.isSparse
                    ? SeedContribution.commitment(
                        configurationDigest: digest, index: context.index, contribution: seedContribution) : [])
        else {
            throw .inconsistentServerMessage(reason: "the key broadcast does not contain this client's keys")
        }
        return try keys.sessionId(configurationDigest: digest, clientCount: context.configuration.clientCount)
    }
}
