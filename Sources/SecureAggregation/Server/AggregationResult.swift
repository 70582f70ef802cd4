/// A client the server caught deviating from the protocol during a session that still completed.
public struct FlaggedClient: Sendable, Hashable, CustomStringConvertible {
    /// What was observed.
    public enum Reason: Sendable, Hashable {
        /// `reporter` could not open the share ciphertext this client sent it (the client, or whoever carried
        /// the ciphertext, corrupted it); the pair's mask seed was disclosed and the session went on.
        case undecryptableShares(reporter: ClientID)
        /// A share this client revealed for `owner`'s secret is not on the polynomial that reconstructs the
        /// committed secret; it was left out (SPEC.md §11.4).
        case invalidShare(owner: ClientID, kind: ShareKind)
    }

    /// The client.
    public var client: ClientID
    /// Why.
    public var reason: Reason

    /// Creates an entry.
    public init(client: ClientID, reason: Reason) {
        self.client = client
        self.reason = reason
    }

    /// One line.
    public var description: String {
        switch reason {
        case let .undecryptableShares(reporter):
            "\(client): \(reporter) could not open its share ciphertext"
        case let .invalidShare(owner, kind):
            "\(client): revealed an invalid share of \(owner)'s \(kind)"
        }
    }
}

/// The outcome of a session: the sum of the included clients' inputs, per configured vector.
public struct AggregationResult: Sendable, Equatable {
    /// The sums, one per configured input, in its ring.
    public var vectors: [[UInt64]]
    /// The clients whose inputs are in the sum (U3), ascending.
    public var includedClients: [ClientID]
    /// Clients in each round's live set, for reports: U1...U5 sizes.
    public var liveCounts: [ProtocolRound: Int]
    /// Clients caught deviating (undecryptable ciphertexts, invalid revealed shares), ascending by client.
    public var flaggedClients: [FlaggedClient] = []
}
