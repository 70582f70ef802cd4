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

    /// The largest encoded server message a client of this session can receive (the key broadcast with every
    /// client, or a longer request to one client), so that a client's transport can bound its reads.
    public var maximumServerMessageByteCount: Int {
        let n = clientCount
        let k = degree
        let entry = 4 + 64 + (isSparse ? 32 : 0) + (securityModel == .active ? 64 : 0)
        let bitmap = (n + 7) / 8
        return [
            2 + 32 + 4 + n * entry,  // KeysBroadcast
            2 + 32 + 4 + n * (4 + SeedContribution.byteCount),  // SeedReveals
            2 + 32 + 4 + 4 + k * (4 + shareCiphertextByteCount),  // SharesForward
            2 + 32 + bitmap,  // ConsistencyRequest, SessionComplete
            2 + 32 + 4 + 3 * 4 + k * 4 + (securityModel == .active ? k * (4 + 64) : 0),  // UnmaskingRequest
            2 + 32 + 1,  // Abort
        ].max() ?? 0
    }
}
