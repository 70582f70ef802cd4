/// A list of share ciphertexts in one buffer, as the server holds them: peers strictly ascending, the ciphertext
/// for `peers[i]` at bytes `i · shareCiphertextByteCount ..< (i + 1) · shareCiphertextByteCount`.
package struct ShareBoxes: Sendable {
    /// The other client of each box, strictly ascending.
    package private(set) var peers: [UInt32]
    /// The ciphertexts, back to back.
    package private(set) var ciphertexts: [UInt8]

    /// An empty list with room for `capacity` boxes.
    package init(capacity: Int = 0) {
        peers = []
        ciphertexts = []
        peers.reserveCapacity(capacity)
        ciphertexts.reserveCapacity(capacity * shareCiphertextByteCount)
    }

    /// The boxes of a typed list in its order, or nil when a ciphertext is not ``shareCiphertextByteCount`` bytes.
    /// (The server compares the peers with the list it expects before it keeps them.)
    package init?(_ shares: [EncryptedShare]) {
        self.init(capacity: shares.count)
        for share in shares {
            guard share.ciphertext.count == shareCiphertextByteCount else { return nil }
            append(peer: share.peer, ciphertext: share.ciphertext)
        }
    }

    /// Appends a box (the caller keeps the peers ascending and the ciphertext at its size).
    package mutating func append(peer: UInt32, ciphertext: some Collection<UInt8>) {
        peers.append(peer)
        ciphertexts.append(contentsOf: ciphertext)
    }

    /// The ciphertext of box `i`.
    package func ciphertext(at i: Int) -> ArraySlice<UInt8> {
        ciphertexts[(i * shareCiphertextByteCount)..<((i + 1) * shareCiphertextByteCount)]
    }

    /// The position of `peer`'s box (binary search), if there is one.
    package func position(of peer: UInt32) -> Int? {
        var (low, high) = (0, peers.count)
        while low < high {
            let middle = (low + high) / 2
            if peers[middle] < peer { low = middle + 1 } else { high = middle }
        }
        return low < peers.count && peers[low] == peer ? low : nil
    }

    /// The typed list (one array per ciphertext).
    package var shares: [EncryptedShare] {
        peers.indices.map { EncryptedShare(peer: peers[$0], ciphertext: Array(ciphertext(at: $0))) }
    }
}

/// The body of a ``ClientMessage/shareKeys(sessionId:sender:selfMaskCommitment:shares:)`` with its boxes in one
/// buffer: what the server's decoder hands its round 1 instead of one array per ciphertext.
package struct ShareKeysBody: Sendable {
    package var sessionId: [UInt8]
    package var sender: UInt32
    package var selfMaskCommitment: [UInt8]
    package var boxes: ShareBoxes
}

/// A decoded client message as the server takes it: typed, or a ShareKeys body in the flat form.
package enum ClientPayload: Sendable {
    case message(ClientMessage)
    case shareKeys(ShareKeysBody)

    /// The sender the message claims.
    package var sender: UInt32 {
        switch self {
        case let .message(message): message.sender
        case let .shareKeys(body): body.sender
        }
    }

    /// The round the message answers.
    package var round: ProtocolRound {
        switch self {
        case let .message(message): message.round
        case .shareKeys: .shareKeys
        }
    }
}
