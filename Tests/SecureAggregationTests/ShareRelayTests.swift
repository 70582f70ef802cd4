import SecAggCrypto
import SecureAggregation
import Testing

/// The server's relay of share ciphertexts (round 1 → 2): held as each sender sent them, one buffer per sender,
/// and written into each recipient's SharesForward when the transport reads it.
@Suite("share relay")
struct ShareRelayTests {
    /// s-outbox-removal-positions, s-outbox-removal-positions-encoded: a client removed after it answered round 1
    /// leaves the deferred outbox; every other recipient still gets its own message, and the encoded outbox (written
    /// straight from the server's buffers) is byte for byte the wire format's encoding of the typed one.
    @Test func forwardedSharesReachTheirRecipientsAfterARemoval() throws {
        var h = try Harness(n: 6, t: 3, label: "relay removal")
        try h.run(until: .shareKeys)
        try h.deliver()
        try h.flushReplies()
        _ = try h.server.abortClient(ClientID(2))
        var typedServer = h.server
        let typed = try typedServer.advance().outbox.direct
        let encoded = try h.server.advanceEncoded().outbox.direct
        #expect(typed.isDeferred && encoded.isDeferred)
        #expect(typed.recipients.map(\.rawValue) == [1, 3, 4, 5, 6])
        #expect(encoded.recipients == typed.recipients)
        for position in typed.indices {
            let (recipient, message) = typed[position]
            guard case let .sharesForward(_, addressee, shares) = message else {
                Issue.record("not a SharesForward")
                continue
            }
            #expect(addressee == recipient.rawValue)
            // Client 2 answered round 1, so its box is forwarded although it gets nothing more itself.
            #expect(shares.map(\.peer) == [1, 2, 3, 4, 5, 6].filter { $0 != recipient.rawValue })
            #expect(encoded[position].recipient == recipient)
            #expect(encoded[position].message == h.wire.encode(message))
        }
        h.pending = typed.map { ($0.recipient.rawValue, $0.message) }
        let result = try #require(try h.finish())
        #expect(result.includedClients.map(\.rawValue) == [1, 3, 4, 5, 6])
        #expect(result.vectors == h.expectedSum(of: [1, 3, 4, 5, 6]))
    }

    /// s-typed-ciphertext-length: the typed API takes a ciphertext of any length; the server refuses one that is not
    /// the wire format's size, and the refusal changes nothing.
    @Test func aTypedShareCiphertextOfTheWrongSizeIsRefused() throws {
        var h = try Harness(n: 5, t: 3, label: "relay ciphertext size")
        let (sid, sender, commitment, shares) = try Self.shareKeysOfClientOne(&h)
        let reason = "share ciphertexts must be \(shareCiphertextByteCount) bytes"
        for delta in [-1, 1] {
            var changed = shares
            changed[2].ciphertext =
                Array(changed[2].ciphertext.dropLast(max(0, -delta))) + [UInt8](repeating: 0, count: max(0, delta))
            #expect(throws: SecAggError.invalidClientMessage(sender: 1, reason: reason)) {
                try h.server.receive(
                    .shareKeys(sessionId: sid, sender: sender, selfMaskCommitment: commitment, shares: changed), from: 1
                )
            }
        }
        #expect(h.server.awaitedClients.contains(ClientID(1)))
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: [1, 2, 3, 4, 5]))
    }

    /// s-session-shareKeys: a ShareKeys message in bytes (the decoder's flat form) for another session is refused.
    @Test func encodedShareKeysForAnotherSessionAreRefused() throws {
        var h = try Harness(n: 5, t: 3, label: "relay other session")
        let (sid, sender, commitment, shares) = try Self.shareKeysOfClientOne(&h)
        var otherSession = sid
        otherSession[0] ^= 1
        let bytes = try h.wire.encode(
            .shareKeys(sessionId: otherSession, sender: sender, selfMaskCommitment: commitment, shares: shares))
        #expect(throws: SecAggError.wrongSession) { try h.server.receive(encoded: bytes, from: 1) }
        #expect(h.server.awaitedClients.contains(ClientID(1)))
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: [1, 2, 3, 4, 5]))
    }

    /// s-complaint-neighbour, s-complaint-forwarded: on a sparse graph a complaint may name only a neighbour whose
    /// box was forwarded (a live client that is not a neighbour, or a neighbour that dropped before sharing, is
    /// refused), and the refusal changes nothing.
    @Test func complaintsNameOnlyNeighboursWhoseBoxesWereForwarded() throws {
        var h = try Harness(n: 12, t: 3, label: "relay complaint neighbours", graph: .harary(degree: 4))
        // Run to round 0′'s end to learn the graph, then pick a neighbour of client 1 that will not share keys.
        try h.run(until: .shareKeys)
        let neighbours = h.server.neighbours(of: ClientID(1)).map(\.rawValue)
        #expect(neighbours.count == 4)
        let droppedNeighbour = try #require(neighbours.first)
        let stranger = try #require((2...12).first { !neighbours.contains($0) })
        try h.deliver(skipping: [droppedNeighbour])
        try h.advance()
        try h.deliver()
        let slot = try #require(h.replies.firstIndex { $0.sender == 1 })
        guard case let .maskedInput(sid, _, complaints, vectors) = h.replies[slot].message else {
            Issue.record("not a masked input")
            return
        }
        #expect(complaints.isEmpty)
        let seed = SecretBytes(copying: [UInt8](repeating: 7, count: 32))
        for subject in [stranger, droppedNeighbour] {
            #expect(
                throws: SecAggError.invalidClientMessage(
                    sender: 1, reason: "complaint about a client it received nothing from")
            ) {
                try h.server.receive(
                    .maskedInput(
                        sessionId: sid, sender: 1,
                        complaints: [ShareComplaint(sender: subject, pairwiseMaskSeed: seed)], vectors: vectors),
                    from: 1)
            }
        }
        let included = (1...12).filter { $0 != droppedNeighbour }.map { UInt32($0) }
        let result = try #require(try h.finish())
        #expect(result.includedClients.map(\.rawValue) == included)
        #expect(result.vectors == h.expectedSum(of: included))
    }

    /// Runs `h` until the ShareKeys replies are held (not yet sent) and returns client 1's.
    static func shareKeysOfClientOne(_ h: inout Harness) throws -> (
        sessionId: [UInt8], sender: UInt32, commitment: [UInt8], shares: [EncryptedShare]
    ) {
        try h.run(until: .shareKeys)
        try h.deliver()
        let slot = try #require(h.replies.firstIndex { $0.sender == 1 })
        guard case let .shareKeys(sid, sender, commitment, shares) = h.replies[slot].message else {
            throw NotShareKeys()
        }
        return (sid, sender, commitment, shares)
    }
}

/// Client 1's reply was not a ShareKeys message.
private struct NotShareKeys: Error {}
