import SecAggCrypto
import SecureAggregation
import Testing

/// The API an embedder's transport relies on (issue 12): awaited clients and early advance, typed steps, aborts,
/// the input-required state, the end-of-session message, the async unmasking and the message-size bounds.
@Suite("the embedder's API")
struct EmbedderAPITests {
    @Test func theServerSaysWhomItAwaitsAndCanAdvanceEarly() throws {
        var h = try Harness(n: 5, t: 3, label: "api awaited")
        #expect(h.server.awaitedClients == [1, 2, 3, 4, 5])
        #expect(!h.server.isRoundComplete)
        try h.start()
        try h.flushReplies()
        #expect(h.server.awaitedClients.isEmpty)
        #expect(h.server.isRoundComplete)
        try h.advance()
        #expect(h.server.currentRound == .shareKeys)
        try h.deliver()
        // Two of five answered: the other three are awaited, in order.
        let early = Array(h.replies.prefix(2))
        h.replies = early
        try h.flushReplies()
        #expect(h.server.awaitedClients == [3, 4, 5])
        #expect(!h.server.isRoundComplete)
    }

    @Test func stepsAreTypedAndTheSessionEndsWithAMessageToEveryClient() throws {
        var h = try Harness(n: 5, t: 3, label: "api steps")
        // Client 5 stops after sharing keys: it is alive but not in the sum.
        try h.run(until: .unmasking, skip: [.maskedInputCollection: [5]])
        try h.deliver(skipping: [5])
        try h.flushReplies()
        let step = try h.server.advance()
        guard case let .completed(result, outbox) = step else {
            Issue.record("expected completion, got \(step)")
            return
        }
        #expect(result.includedClients == [1, 2, 3, 4])
        #expect(outbox.direct.map(\.recipient) == [1, 2, 3, 4, 5])
        for (recipient, message) in outbox.allMessages {
            let bytes = h.wire.encode(message)
            #expect(try h.clients[recipient.rawValue]!.handle(encoded: bytes) == nil)
        }
        for u in UInt32(1)...4 { #expect(h.clients[u]!.state == .completed(inputIncluded: true)) }
        // The session id stays known after the end.
        #expect(h.clients[1]!.sessionID == h.server.sessionID)
        #expect(h.clients[5]!.state == .completed(inputIncluded: false))
        #expect(throws: SecAggError.alreadyCompleted) { _ = try h.server.advance() }
    }

    /// SPEC.md §11.5: an Abort that arrives after the client answered the unmasking request aborts it (it does not
    /// know the outcome yet); one that arrives after SessionComplete is refused with `alreadyCompleted`, and the
    /// client stays completed (its reported outcome does not change).
    @Test func anAbortAfterTheLastRoundAbortsButOneAfterCompletionIsRefused() throws {
        var h = try Harness(n: 5, t: 3, label: "api abort after completion")
        try h.run(until: .unmasking)
        try h.deliver()
        try h.flushReplies()
        let sid = try #require(h.server.sessionID).bytes
        let abort = h.wire.encode(ServerMessage.abort(binding: sid, code: .other))
        #expect(h.clients[5]!.state == .awaitingOutcome)
        _ = try h.clients[5]!.handle(encoded: abort)
        #expect(h.clients[5]!.state == .aborted(.serverAborted(code: .other)))

        guard case let .completed(_, outbox) = try h.server.advance() else {
            Issue.record("expected completion")
            return
        }
        for (recipient, message) in outbox.allMessages where recipient.rawValue != 5 {
            #expect(try h.clients[recipient.rawValue]!.handle(encoded: h.wire.encode(message)) == nil)
        }
        for u in UInt32(1)...4 {
            #expect(throws: SecAggError.alreadyCompleted) { _ = try h.clients[u]!.handle(encoded: abort) }
            #expect(h.clients[u]!.state == .completed(inputIncluded: true))
        }
    }

    @Test func theEndOfSessionMessageIsChecked() throws {
        var h = try Harness(n: 5, t: 3, label: "api complete checks")
        try h.run(until: .maskedInputCollection)
        let sid = try #require(h.server.sessionID).bytes
        // Client 1 has not sent its masked input: a message that counts it is a lie.
        var client = h.clients[1]!
        #expect(
            throws: SecAggError.inconsistentServerMessage(reason: "the server counts an input this client never sent")
        ) {
            _ = try client.handle(.sessionComplete(sessionId: sid, recipient: 1, included: true))
        }
        // Another session's message is rejected without changing state.
        client = h.clients[1]!
        #expect(throws: SecAggError.wrongSession) {
            _ = try client.handle(
                .sessionComplete(sessionId: [UInt8](repeating: 9, count: 32), recipient: 1, included: true))
        }
        #expect(client.state == .maskedInputCollection)
    }

    @Test func aClientWithoutInputWaitsInsteadOfFailing() throws {
        var h = try Harness(n: 5, t: 3, label: "api input required")
        let input = h.clients[2]!.configuration
        h.clients[2] = try SecAggClient(configuration: input, index: 2)
        try h.run(until: .maskedInputCollection)
        try h.deliver()
        #expect(h.clients[2]!.state == .inputRequired)
        #expect(!h.replies.contains { $0.sender == 2 })
        // A wrong shape is refused and changes nothing.
        #expect(throws: SecAggError.self) { try h.clients[2]!.provideInput([[1, 2, 3]]) }
        #expect(h.clients[2]!.state == .inputRequired)
        let reply = try #require(try h.clients[2]!.provideInput(h.inputs[2]!))
        #expect(h.clients[2]!.state == .unmasking)
        h.replies.append((2, reply))
        let result = try #require(try h.finish())
        #expect(result.vectors == h.expectedSum(of: [1, 2, 3, 4, 5]))
    }

    @Test func removingOneClientLetsTheSessionGoOnWithoutIt() throws {
        var h = try Harness(n: 5, t: 3, label: "api abort client")
        try h.run(until: .maskedInputCollection)
        let encodedNotice = try h.server.abortClientEncoded(4)
        let notice = try h.wire.decodeServerMessage(encodedNotice)
        guard case let .abort(_, code) = notice else {
            Issue.record("not an abort notice")
            return
        }
        #expect(code == .clientExcluded)
        _ = try h.clients[4]!.handle(encoded: h.wire.encode(notice))
        #expect(h.clients[4]!.state == .aborted(.serverAborted(code: .clientExcluded)))
        try h.deliver(skipping: [4])
        try h.flushReplies()
        #expect(h.server.isRoundComplete)
        #expect(throws: SecAggError.notParticipating(sender: 4, round: .maskedInputCollection)) {
            try h.server.receive(
                .maskedInput(sessionId: h.server.sessionID!.bytes, sender: 4, complaints: [], vectors: h.inputs[4]!),
                from: 4)
        }
        let result = try #require(try h.finish())
        #expect(result.includedClients == [1, 2, 3, 5])
        #expect(result.vectors == h.expectedSum(of: [1, 2, 3, 5]))
    }

    @Test func abortingTheSessionTellsEveryClient() throws {
        var h = try Harness(n: 5, t: 3, label: "api abort")
        try h.run(until: .maskedInputCollection)
        let step = try h.server.abortEncoded()
        guard case let .aborted(reason, outbox) = step else {
            Issue.record("expected an abort")
            return
        }
        #expect(reason == .abortedByCaller)
        #expect(h.server.state == .aborted(.abortedByCaller))
        #expect(outbox.broadcast?.recipients == [1, 2, 3, 4, 5])
        for (recipient, bytes) in outbox.allMessages {
            _ = try h.clients[recipient.rawValue]!.handle(encoded: bytes)
            #expect(h.clients[recipient.rawValue]!.state == .aborted(.serverAborted(code: .other)))
        }
        #expect(throws: SecAggError.alreadyAborted(reason: SecAggError.abortedByCaller.description)) {
            _ = try h.server.advance()
        }
    }

    @Test func tooFewClientsIsAnAbortStepWithNotices() throws {
        var h = try Harness(n: 5, t: 3, label: "api shortfall")
        try h.run(until: .shareKeys)
        try h.deliver(skipping: [3, 4, 5])
        try h.flushReplies()
        let step = try h.server.advance()
        guard case let .aborted(reason, outbox) = step else {
            Issue.record("expected an abort")
            return
        }
        #expect(reason == .insufficientClients(round: .shareKeys, count: 2, required: 4))
        #expect(reason.abortCode == .insufficientClients)
        #expect(outbox.broadcast?.recipients == [1, 2, 3, 4, 5])
        #expect(reason.description == "only 2 live clients at share-keys, 4 required")
    }

    @Test func theAsyncUnmaskingGivesTheSameResult() async throws {
        var a = try Harness(n: 6, t: 3, label: "api async")
        var b = try Harness(n: 6, t: 3, label: "api async")
        try a.run(until: .unmasking, skip: [.maskedInputCollection: [6]])
        try b.run(until: .unmasking, skip: [.maskedInputCollection: [6]])
        try a.deliver()
        try b.deliver()
        try a.flushReplies()
        try b.flushReplies()
        let sync = try a.server.advance()
        let async = try await b.server.advanceAsync()
        guard case let .completed(expected, _) = sync, case let .completed(actual, _) = async else {
            Issue.record("both must complete")
            return
        }
        #expect(actual == expected)
        #expect(actual.vectors == a.expectedSum(of: [1, 2, 3, 4, 5]))
    }

    @Test(arguments: [SecurityModel.semiHonest, .active])
    func everyMessageFitsTheAdvertisedBound(model: SecurityModel) throws {
        var h = try Harness(n: 9, t: 5, model: model, label: "api sizes", graph: .harary(degree: 6))
        let configuration = h.configuration
        var round = ProtocolRound.advertiseKeys
        try h.start()
        var largestServer = 0
        while true {
            for (_, message) in h.replies {
                let size = try h.wire.encode(message).count
                #expect(size <= configuration.maximumClientMessageByteCount(in: round), "\(round)")
            }
            try h.flushReplies()
            let step = try h.server.advanceEncoded()
            for (_, bytes) in step.outbox.allMessages {
                #expect(bytes.count <= configuration.maximumServerMessageByteCount)
                largestServer = max(largestServer, bytes.count)
                // The largest server message: semi-honest, a neighbourhood (k present records and a multiproof, which
                // the bound takes at its most, 4L values); active, the key broadcast with every client.
                if case .nextRound(model == .active ? .seedReveal : .shareKeys, _) = step {
                    var shortfall = 0
                    if case let .neighbourhood(_, _, _, _, _, _, multiproof) = try h.wire.decodeServerMessage(bytes) {
                        shortfall = 4 * MerkleTree.depth(slotCount: 9) * 32 - multiproof.count
                        #expect(shortfall >= 0)
                    }
                    #expect(bytes.count + shortfall == configuration.maximumServerMessageByteCount)
                }
            }
            guard case let .nextRound(next, outbox) = step else { break }
            h.pending = try outbox.allMessages.map { ($0.recipient.rawValue, try h.wire.decodeServerMessage($0.bytes)) }
            round = next
            try h.deliver()
        }
        #expect(largestServer > 0)
    }

    @Test func abortCodesAreOpen() throws {
        let h = try Harness(n: 5, t: 3, label: "api codes")
        let bytes = h.wire.encode(.abort(binding: h.configuration.digest, code: AbortCode(rawValue: 77)))
        guard case let .abort(_, code) = try h.wire.decodeServerMessage(bytes) else {
            Issue.record("not an abort")
            return
        }
        #expect(code.rawValue == 77 && code.description == "code 77")
        #expect(h.wire.encode(.abort(binding: h.configuration.digest, code: code)) == bytes)
    }
}
