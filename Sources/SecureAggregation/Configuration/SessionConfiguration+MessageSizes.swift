import SecAggCrypto

extension SessionConfiguration {
    /// The largest encoded client message of `round` (SPEC.md §12.4), so that a transport can refuse a longer
    /// frame before reading it. Every list is bounded by the graph degree k.
    public func maximumClientMessageByteCount(in round: ProtocolRound) -> Int {
        let header = 2 + 32 + 4  // version, tag, binding, sender
        let k = degree
        switch round {
        case .advertiseKeys: return header + 64 + (isSparse ? 32 : 0) + (securityModel == .active ? 64 : 0)
        case .seedReveal: return header + SeedContribution.byteCount
        case .shareKeys: return header + 32 + 4 + k * (4 + shareCiphertextByteCount)
        case .maskedInputCollection: return header + 4 + k * (4 + 32) + maskedInputByteCount
        case .consistencyCheck: return header + 64
        case .unmasking: return header + 4 + 4 + k * (4 + shareByteCount)
        }
    }

    /// The largest encoded server message a client of this session can receive, so that a client's transport can
    /// bound its reads: on a configuration that is not sparse, and on a sparse graph in the active model, the key
    /// broadcast with every client (O(n)); on a sparse graph in the semi-honest model the neighbourhood with k records
    /// and one multiproof (O(k + log n), SPEC.md §12.4).
    public var maximumServerMessageByteCount: Int {
        let n = clientCount
        let k = degree
        let signature = securityModel == .active ? 64 : 0
        let bitmap = (n + 7) / 8
        let proof = MerkleTree.depth(slotCount: n) * MerkleTree.digestByteCount
        var sizes = [
            2 + 32 + 4 + 4 + k * (4 + shareCiphertextByteCount),  // SharesForward
            2 + 32 + bitmap,  // ConsistencyRequest
            2 + 32 + 4 + 1,  // SessionComplete
            2 + 32 + 4 + 3 * 4 + k * 4 + (securityModel == .active ? k * (4 + 64) : 0),  // UnmaskingRequest
            2 + 32 + 1,  // Abort
        ]
        if isSparse, securityModel == .active {
            // Every advertisement (with commitments and signatures), then every reveal.
            sizes.append(2 + 32 + 4 + n * (4 + 64 + 32 + 64))  // KeysBroadcast
            sizes.append(2 + 32 + 4 + n * (4 + SeedContribution.byteCount))  // SeedReveals
        } else if isSparse {
            let entry = 4 + 64 + 32 + signature
            sizes.append(2 + 32 + 4 + 32 + entry + proof)  // KeyCommitment
            // Neighbourhood: the own reveal proof, the ring root, k records with keys and commitment, and a
            // multiproof of at most 4L values.
            sizes.append(2 + 32 + 4 + 32 + proof + 32 + 4 + k * (4 + 1 + (entry - 4)) + 4 + 4 * proof)
        } else {
            sizes.append(2 + 32 + 4 + n * (4 + 64 + signature))  // KeysBroadcast
        }
        return sizes.max() ?? 0
    }
}
