public import SecAggCrypto
import SecAggGraph

extension SecAggClient {
    /// Consumes one server message and returns the reply (nil when there is nothing to send: the session ended,
    /// or the input is still missing — see ``ClientState/inputRequired``).
    ///
    /// Errors that only reject the message (``SecAggError/isRejectionOnly``: wrong session, wrong round,
    /// malformed bytes) leave the state unchanged; any other error aborts the client.
    public mutating func handle(_ message: ServerMessage, using rng: inout some RandomByteGenerator)
        throws(SecAggError) -> ClientMessage?
    {
        switch phase {
        case let .aborted(reason): throw .alreadyAborted(reason: reason.description)
        case .completed: throw .alreadyCompleted
        default: break
        }
        do {
            let (next, reply) = try step(message, using: &rng)
            if let next { enter(next) }
            return reply
        } catch {
            if error.isRejectionOnly {
                metrics.rejectedMessages += 1
            } else {
                enter(.aborted(error))
            }
            throw error
        }
    }

    /// ``handle(_:using:)`` with the system CSPRNG.
    public mutating func handle(_ message: ServerMessage) throws(SecAggError) -> ClientMessage? {
        var rng = SystemRandomGenerator()
        return try handle(message, using: &rng)
    }

    /// Decodes `bytes`, handles the message and encodes the reply.
    public mutating func handle(encoded bytes: [UInt8], using rng: inout some RandomByteGenerator)
        throws(SecAggError) -> [UInt8]?
    {
        let message: ServerMessage
        do {
            message = try wire.decodeServerMessage(bytes)
        } catch {
            metrics.rejectedMessages += 1
            throw error
        }
        metrics.received(bytes.count, in: message.round(in: configuration) ?? .unmasking)
        guard let reply = try handle(message, using: &rng) else { return nil }
        return try encoded(reply)
    }

    /// ``handle(encoded:using:)`` with the system CSPRNG.
    public mutating func handle(encoded bytes: [UInt8]) throws(SecAggError) -> [UInt8]? {
        var rng = SystemRandomGenerator()
        return try handle(encoded: bytes, using: &rng)
    }

    /// Sets (or replaces) the input. Before the forwarded shares arrive it is kept for the masked-input round
    /// and nil is returned; in ``ClientState/inputRequired`` the masked input is computed now and returned, to be
    /// sent to the server. A wrong shape is refused without changing state.
    @discardableResult
    public mutating func provideInput(_ input: [[UInt64]]) throws(SecAggError) -> ClientMessage? {
        switch phase {
        case .notStarted, .awaitingKeyBroadcast, .awaitingSeedReveals, .awaitingShares:
            try Self.validate(input, configuration: configuration)
            self.input = input
            return nil
        case let .inputRequired(received):
            try Self.validate(input, configuration: configuration)
            do {
                let (sent, reply) = try received.maskInput(input, context: context, concurrency: maskingConcurrency)
                enter(next(after: sent))
                return reply
            } catch {
                enter(.aborted(error))
                throw error
            }
        default: throw .invalidInput(reason: "the masked input was already sent (or the client stopped)")
        }
    }

    /// ``provideInput(_:)``, with the reply encoded.
    @discardableResult
    public mutating func provideInputEncoded(_ input: [[UInt64]]) throws(SecAggError) -> [UInt8]? {
        guard let reply = try provideInput(input) else { return nil }
        return try encoded(reply)
    }

    private mutating func encoded(_ reply: ClientMessage) throws(SecAggError) -> [UInt8] {
        let out = try wire.encode(reply)
        metrics.sent(out.count, in: reply.round)
        return out
    }

    private func next(after sent: InputSent) -> ClientPhase {
        context.isActive ? .awaitingSurvivors(sent) : .awaitingUnmaskingRequest(sent)
    }

    /// The next phase (nil: unchanged) and the reply for one message; throws without changing anything.
    private func step(_ message: ServerMessage, using rng: inout some RandomByteGenerator)
        throws(SecAggError) -> (ClientPhase?, ClientMessage?)
    {
        let sparse = configuration.isSparse
        switch (phase, message) {
        case let (_, .abort(binding, code)):
            guard binding == context.configurationDigest || phase.sessionId.map({ binding == $0 }) == true else {
                throw .wrongSession
            }
            return (.aborted(.serverAborted(code: code)), nil)
        case let (_, .sessionComplete(sid, recipient, inputIncluded)):
            guard let own = phase.sessionId, ConstantTime.equals(sid, own) else { throw .wrongSession }
            guard recipient == context.index else {
                throw .unexpectedMessage(
                    expected: "a message for client \(context.index)", received: "one for client \(recipient)")
            }
            if inputIncluded, !phase.sentMaskedInput {
                throw .inconsistentServerMessage(reason: "the server counts an input this client never sent")
            }
            return (.completed(inputIncluded: inputIncluded), nil)
        case let (.awaitingKeyBroadcast(keys), .keysBroadcast(digest, broadcast)) where !sparse:
            guard digest == context.configurationDigest else { throw .wrongSession }
            let sid = try keys.checkOwnEntry(in: broadcast, context: context)
            let graph = try configuration.makeGraph(graphSeed: unusedGraphSeed)
            let (sent, reply) = try keys.shareKeys(
                neighbours: graph.neighbours(of: context.index), entry: { broadcast.entry(for: $0) }, sessionId: sid,
                context: context, using: &rng)
            return (.awaitingShares(sent), reply)
        case let (.awaitingKeyBroadcast(keys), .keysBroadcast(digest, broadcast)) where sparse:
            // Active model: every advertisement, so that every reveal can be checked in round 1 (SPEC.md §11.2).
            guard digest == context.configurationDigest else { throw .wrongSession }
            let (revealed, reply) = try keys.revealSeed(broadcast, context: context)
            return (.awaitingSeedReveals(revealed), reply)
        case let (.awaitingSeedReveals(revealed), .seedReveals(sid, contributions)):
            guard ConstantTime.equals(sid, revealed.sessionId) else { throw .wrongSession }
            let (neighbours, live) = try revealed.neighbourhood(contributions: contributions, context: context)
            let (sent, reply) = try revealed.keys.shareKeys(
                neighbours: neighbours, entry: { live[$0] }, sessionId: sid, context: context, using: &rng)
            return (.awaitingShares(sent), reply)
        case let (.awaitingKeyBroadcast(keys), .keyCommitment(digest, count, keyRoot, own, proof)) where sparse:
            guard digest == context.configurationDigest else { throw .wrongSession }
            let (revealed, reply) = try keys.revealSeed(
                count: count, keyRoot: keyRoot, own: own, proof: proof, context: context)
            return (.awaitingSeedReveals(revealed), reply)
        case let (
            .awaitingSeedReveals(revealed),
            .neighbourhood(sid, recipient, revealRoot, proof, ringRoot, records, multiproof)
        ):
            try checkBinding(sid, recipient: recipient, sessionId: revealed.sessionId)
            let (neighbours, live) = try revealed.neighbourhood(
                revealRoot: revealRoot, proof: proof, ringRoot: ringRoot, records: records, multiproof: multiproof,
                context: context)
            let (sent, reply) = try revealed.keys.shareKeys(
                neighbours: neighbours, entry: { live[$0] }, sessionId: sid, context: context, using: &rng)
            return (.awaitingShares(sent), reply)
        case let (.awaitingShares(sent), .sharesForward(sid, recipient, shares)):
            try checkBinding(sid, recipient: recipient, sessionId: sent.sessionId)
            let received = try sent.open(shares, context: context)
            guard let input else { return (.inputRequired(received), nil) }
            let (inputSent, reply) = try received.maskInput(input, context: context, concurrency: maskingConcurrency)
            return (next(after: inputSent), reply)
        case let (.awaitingSurvivors(sent), .consistencyRequest(sid, survivors)):
            try checkBinding(sid, recipient: context.index, sessionId: sent.sessionId)
            guard let signingKey else { throw .invalidConfiguration(reason: "no signing key") }
            let (signed, reply) = try sent.sign(survivors, signingKey: signingKey, context: context)
            return (.awaitingUnmaskingRequest(signed), reply)
        case let (.awaitingUnmaskingRequest(sent), .unmaskingRequest(sid, recipient, dropped, survivors, signatures)):
            try checkBinding(sid, recipient: recipient, sessionId: sent.sessionId)
            let reply = try sent.reveal(
                dropped: dropped, survivors: survivors, signatures: signatures, context: context)
            return (.awaitingOutcome(sessionId: sent.sessionId), reply)
        default:
            throw .unexpectedMessage(expected: state.description, received: "\(message.round.map { "\($0)" } ?? "end")")
        }
    }

    private func checkBinding(_ sid: [UInt8], recipient: UInt32, sessionId: [UInt8]) throws(SecAggError) {
        guard ConstantTime.equals(sid, sessionId) else { throw .wrongSession }
        guard recipient == context.index else {
            throw .unexpectedMessage(
                expected: "a message for client \(context.index)", received: "one for client \(recipient)")
        }
    }
}
