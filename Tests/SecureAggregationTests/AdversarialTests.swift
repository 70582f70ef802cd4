import SecAggCrypto
import SecureAggregation
import Testing

/// Advances a harness to the point where the unmasking requests are pending.
private func harnessAtUnmasking(model: SecurityModel = .semiHonest, label: String) throws -> Harness {
    var h = try Harness(n: 5, t: 3, model: model, label: label)
    try h.start()
    try h.advance()  // key broadcast pending
    try h.deliver()
    try h.advance()  // shares forward pending
    try h.deliver()
    try h.advance()  // unmasking (or consistency) requests pending
    if model == .active {
        try h.deliver()
        try h.advance()
    }
    return h
}

@Test func clientRefusesBothSharesOfOnePeer() throws {
    var h = try harnessAtUnmasking(label: "both shares")
    guard case let .unmaskingRequest(sid, recipient, _, survivors, sigs)? = h.pending.first?.message else {
        Issue.record("no unmasking request")
        return
    }
    // The server claims peer `survivors[0]` is both dropped and alive.
    let forged = ServerMessage.unmaskingRequest(
        sessionId: sid, recipient: recipient, dropped: [survivors[0]], survivors: survivors, signatures: sigs)
    #expect(throws: SecAggError.conflictingShareRequest(peer: survivors[0])) {
        _ = try h.clients[recipient]!.handle(forged)
    }
    guard case .aborted = h.clients[recipient]!.state else {
        Issue.record("client should have aborted")
        return
    }
}

@Test func clientRefusesGrowingOrForgedSurvivorLists() throws {
    // Client 5 drops before sharing keys; the server then lists it as a survivor to client 1.
    var h = try Harness(n: 6, t: 3, label: "growing")
    try h.start()
    try h.advance()
    try h.deliver(skipping: [5])
    try h.advance()
    try h.deliver()
    try h.advance()
    let request = try #require(h.pending.first { $0.recipient == 1 }?.message)
    guard case let .unmaskingRequest(sid, _, dropped, survivors, sigs) = request else { return }
    let forged = ServerMessage.unmaskingRequest(
        sessionId: sid, recipient: 1, dropped: dropped, survivors: (survivors + [5]).sorted(), signatures: sigs)
    #expect(throws: SecAggError.self) { _ = try h.clients[1]!.handle(forged) }
    // Omitting a neighbour is refused too.
    let omitted = ServerMessage.unmaskingRequest(
        sessionId: sid, recipient: 2, dropped: dropped, survivors: Array(survivors.dropLast()), signatures: sigs)
    #expect(throws: SecAggError.self) { _ = try h.clients[2]!.handle(omitted) }
}

@Test func activeClientRefusesDroppedPeerThatItSignedAsSurvivor() throws {
    var h = try harnessAtUnmasking(model: .active, label: "active lie")
    guard case let .unmaskingRequest(sid, recipient, _, survivors, sigs)? = h.pending.first?.message else {
        Issue.record("no unmasking request")
        return
    }
    let lie = ServerMessage.unmaskingRequest(
        sessionId: sid, recipient: recipient, dropped: [survivors[0]], survivors: Array(survivors.dropFirst()),
        signatures: sigs)
    #expect(throws: SecAggError.self) { _ = try h.clients[recipient]!.handle(lie) }
}

/// Share ciphertexts that are reflected, swapped, replayed from another session or tampered with fail
/// authentication at the recipient, which leaves that sender out of its masks and reports it with their pair
/// seed instead of aborting (SPEC.md §11.3 round 2).
@Test(arguments: ["reflected", "swapped", "cross-session", "tampered"])
func shareCiphertextAttacksAreReported(_ attack: String) throws {
    var h = try Harness(n: 5, t: 3, label: "aead \(attack)")
    try h.start()
    try h.advance()
    try h.deliver()
    // Client 1's ShareKeys reply: ciphertexts for 2...5.
    let shareKeys = try #require(h.replies.first { $0.sender == 1 }?.message)
    guard case let .shareKeys(_, _, _, sharesFrom1) = shareKeys else { return }
    try h.advance()
    let pendingFor1 = try #require(h.pending.first { $0.recipient == 1 }?.message)
    let pendingFor3 = try #require(h.pending.first { $0.recipient == 3 }?.message)
    guard case let .sharesForward(sid, _, toOne) = pendingFor1, case let .sharesForward(_, _, toThree) = pendingFor3
    else { return }

    var target: UInt32 = 1
    var forwarded = toOne
    switch attack {
    case "reflected":
        // Client 1's own ciphertext for 2, shown back to 1 as if 2 had sent it.
        forwarded[0] = EncryptedShare(peer: 2, ciphertext: sharesFrom1[0].ciphertext)
    case "swapped":
        // Client 1's ciphertext for 2, given to 3 as coming from 1.
        target = 3
        forwarded = toThree
        let slot = forwarded.firstIndex { $0.peer == 1 }!
        forwarded[slot] = EncryptedShare(peer: 1, ciphertext: sharesFrom1[0].ciphertext)
    case "cross-session":
        // The same pair's ciphertext from another session (fresh keys, other nonce).
        var other = try Harness(n: 5, t: 3, label: "aead other session")
        try other.start()
        try other.advance()
        try other.deliver()
        try other.advance()
        guard case let .sharesForward(_, _, otherShares)? = other.pending.first(where: { $0.recipient == 1 })?.message
        else { return }
        forwarded[0] = otherShares[0]
    default:
        var bytes = forwarded[0].ciphertext
        bytes[30] ^= 0x01
        forwarded[0] = EncryptedShare(peer: forwarded[0].peer, ciphertext: bytes)
    }
    let culprit = attack == "swapped" ? UInt32(1) : forwarded[0].peer
    let message = ServerMessage.sharesForward(sessionId: sid, recipient: target, shares: forwarded)
    let reply = try h.clients[target]!.handle(message)
    guard case let .maskedInput(_, _, complaints, _)? = reply else {
        Issue.record("client \(target) sent no masked input")
        return
    }
    #expect(complaints.map(\.sender) == [culprit])
    #expect(h.clients[target]!.state == .unmasking)
}

@Test func badSignaturesAreRejected() throws {
    var h = try Harness(n: 5, t: 3, model: .active, label: "signatures")
    try h.start()
    // A forged advertisement signature is rejected by the server, which carries on.
    guard case let .advertiseKeys(digest, keys) = h.replies[1].message else { return }
    var forged = keys
    forged.signature[0] ^= 1
    let wire = WireFormat(configuration: h.configuration)
    #expect(throws: SecAggError.badSignature(signer: keys.index, round: .advertiseKeys)) {
        try h.server.receive(
            encoded: try wire.encode(.advertiseKeys(configurationDigest: digest, keys: forged)), from: keys.index)
    }
    try h.advance()
    // A key broadcast with a forged entry is refused by the clients.
    guard case let .keysBroadcast(d, entries)? = h.pending.first?.message else { return }
    var tampered = entries.entries
    tampered[2].signature[5] ^= 1
    #expect(throws: SecAggError.badSignature(signer: tampered[2].index, round: .advertiseKeys)) {
        _ = try h.clients[1]!.handle(
            .keysBroadcast(
                configurationDigest: d, keys: KeyBroadcast(entries: tampered, signed: true, committed: false)))
    }
    // The honest run completes for everyone else: client 1 aborted and counts as dropped.
    try h.deliver(skipping: [1])
    let result = try #require(try h.finish())
    #expect(result.includedClients.map(\.rawValue) == [2, 3, 4, 5])
    #expect(result.vectors == h.expectedSum(of: [2, 3, 4, 5]))
}

@Test func wrongSessionAndWrongRoundAreRejectedWithoutStateChange() throws {
    var h = try Harness(label: "wrong session")
    try h.start()
    try h.advance()
    guard case let .keysBroadcast(_, keys)? = h.pending.first?.message else { return }
    let before = h.clients[1]!.state
    #expect(throws: SecAggError.wrongSession) {
        _ = try h.clients[1]!.handle(.keysBroadcast(configurationDigest: [UInt8](repeating: 7, count: 32), keys: keys))
    }
    #expect(throws: SecAggError.self) {
        _ = try h.clients[1]!.handle(
            .consistencyRequest(sessionId: [UInt8](repeating: 0, count: 32), survivors: ClientSet(clientCount: 5)))
    }
    #expect(h.clients[1]!.state == before)
    let result = try #require(try h.finish())
    #expect(result.vectors == h.expectedSum(of: [1, 2, 3, 4, 5]))
}

/// Every truncation of every message is a typed error, leaves the party unchanged, and the session
/// still ends with the exact sum.
@Test func truncatedAndMalformedMessagesNeverDisturbTheSession() throws {
    var h = try Harness(n: 5, t: 3, model: .active, label: "truncation")
    try h.start()
    var rounds = 0
    while true {
        // Client → server: truncated copies, a duplicate after acceptance, trailing bytes.
        for (sender, message) in h.replies {
            let bytes = try h.wire.encode(message)
            for cut in Set([0, 1, 2, 10, bytes.count / 2, bytes.count - 1]) where cut < bytes.count {
                #expect(throws: SecAggError.self) { try h.server.receive(encoded: Array(bytes[0..<cut]), from: sender) }
            }
            #expect(throws: SecAggError.wire(.trailingBytes(count: 1))) {
                try h.server.receive(encoded: bytes + [0], from: sender)
            }
            try h.server.receive(encoded: bytes, from: sender)
            #expect(throws: SecAggError.duplicateMessage(sender: sender, round: message.round)) {
                try h.server.receive(encoded: bytes, from: sender)
            }
        }
        h.replies = []
        try h.advance()
        if case .completed = h.server.state { break }
        // Server → client: truncated copies first.
        for (recipient, message) in h.pending {
            let bytes = h.wire.encode(message)
            for cut in Set([0, 1, 5, bytes.count / 2, bytes.count - 1]) where cut < bytes.count {
                #expect(throws: SecAggError.self) {
                    _ = try h.clients[recipient]!.handle(encoded: Array(bytes[0..<cut]))
                }
            }
        }
        try h.deliver()
        rounds += 1
    }
    #expect(rounds == 4)
    #expect(h.server.result?.vectors == h.expectedSum(of: [1, 2, 3, 4, 5]))
}

@Test func lateMessagesFromDroppedClientsAreRejected() throws {
    var h = try Harness(n: 5, t: 3, label: "late")
    try h.start()
    try h.advance()
    try h.deliver()
    // Client 4's shares arrive after the deadline.
    let late = h.replies.first { $0.sender == 4 }!
    h.replies.removeAll { $0.sender == 4 }
    try h.advance()
    #expect(throws: SecAggError.notParticipating(sender: 4, round: .shareKeys)) {
        try h.server.receive(encoded: try h.wire.encode(late.message), from: 4)
    }
    try h.deliver()
    // A masked input from client 4 (which never reached round 2) is refused and not added.
    #expect(throws: SecAggError.self) {
        try h.server.receive(
            .maskedInput(sessionId: h.server.sessionID!.bytes, sender: 4, complaints: [], vectors: h.inputs[4]!),
            from: 4)
    }
    // A message claiming another sender is refused.
    let first = h.replies[0]
    #expect(throws: SecAggError.self) { try h.server.receive(first.message, from: first.sender == 1 ? 2 : 1) }
    let result = try #require(try h.finish())
    #expect(result.includedClients.map(\.rawValue) == [1, 2, 3, 5])
    #expect(result.vectors == h.expectedSum(of: [1, 2, 3, 5]))
}

@Test func wireDecoderRejectsDuplicateAndOutOfRangeIndices() throws {
    let h = try Harness(label: "wire")
    let w = h.wire
    let sid = [UInt8](repeating: 1, count: 32)
    let ct = [UInt8](repeating: 0, count: shareCiphertextByteCount)
    let dup = ServerMessage.sharesForward(
        sessionId: sid, recipient: 1,
        shares: [EncryptedShare(peer: 2, ciphertext: ct), EncryptedShare(peer: 2, ciphertext: ct)])
    #expect(throws: SecAggError.wire(.duplicateOrUnorderedIndex(field: "peer", index: 2))) {
        _ = try w.decodeServerMessage(w.encode(dup))
    }
    let outOfRange = ServerMessage.unmaskingRequest(
        sessionId: sid, recipient: 9, dropped: [], survivors: [], signatures: [])
    #expect(throws: SecAggError.wire(.indexOutOfRange(field: "recipient", index: 9, clientCount: 5))) {
        _ = try w.decodeServerMessage(w.encode(outOfRange))
    }
    var huge = w.encode(ServerMessage.sharesForward(sessionId: sid, recipient: 1, shares: []))
    huge[huge.count - 4..<huge.count] = [0xff, 0xff, 0xff, 0x7f]
    #expect(throws: SecAggError.wire(.countOutOfRange(field: "shareCount", count: 0x7fff_ffff, maximum: 4))) {
        _ = try w.decodeServerMessage(huge)
    }
    #expect(throws: SecAggError.wire(.unsupportedVersion(2, expected: 3))) { _ = try w.decodeServerMessage([2, 0x81]) }
    #expect(throws: SecAggError.wire(.unknownTag(0x77))) { _ = try w.decodeClientMessage([3, 0x77]) }
}
