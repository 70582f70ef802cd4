import Dispatch

extension SecAggServer {
    /// Closes the current round, early or at its deadline: clients that did not answer are dropped. Returns what
    /// follows — the next round's requests, the result with the end-of-session message, or an abort (fewer than
    /// t + 1 clients left, since every client needs t live neighbours; a missing seed reveal; a secret that cannot
    /// be reconstructed) with the notices for the clients still in the session. Throws only when the session was
    /// already over.
    ///
    /// Closing the unmasking round removes the masks, which takes seconds at scale on up to
    /// ``unmaskingConcurrency`` threads, the calling one included: from Swift concurrency call ``advanceAsync()``.
    public mutating func advance() throws(SecAggError) -> ServerStep<ServerOutbox> {
        let (round, live) = try beginClosing()
        if let shortfall = shortfall(closing: round, live: live) { return abortSession(shortfall) }
        let closing = Closing(phase: phase.take(during: round), live: live)
        return conclude(closing.run(context: context, workers: unmaskingWorkers()))
    }

    /// ``advance()``, with the unmasking (the one CPU-heavy step) on a thread outside Swift's cooperative pool,
    /// so that an async server never blocks the pool while it removes the masks.
    public mutating func advanceAsync() async throws(SecAggError) -> ServerStep<ServerOutbox> {
        guard case .unmasking = phase else { return try advance() }
        let (round, live) = try beginClosing()
        if let shortfall = shortfall(closing: round, live: live) { return abortSession(shortfall) }
        let closing = Closing(phase: phase.take(during: round), live: live)
        let (context, workers) = (context, unmaskingWorkers())
        let closed = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: closing.run(context: context, workers: workers))
            }
        }
        return conclude(closed)
    }

    /// ``advance()`` with the outbox encoded (each broadcast once), counting bytes.
    public mutating func advanceEncoded() throws(SecAggError) -> ServerStep<EncodedOutbox> {
        encoded(try advance())
    }

    /// ``advanceAsync()`` with the outbox encoded (each broadcast once), counting bytes.
    public mutating func advanceEncodedAsync() async throws(SecAggError) -> ServerStep<EncodedOutbox> {
        encoded(try await advanceAsync())
    }

    /// Stops the session now (the caller gave up: a shutdown, a global deadline). Returns the abort notices for
    /// the clients still in the session; secrets held for unmasking are released.
    public mutating func abort() throws(SecAggError) -> ServerStep<ServerOutbox> {
        try checkInSession()
        return abortSession(.abortedByCaller)
    }

    /// Removes one client from the session (its connection died, or it misbehaved): it is no longer awaited, its
    /// later messages are refused as ``SecAggError/notParticipating(sender:round:)``, and it gets no further
    /// request; for the protocol it dropped out. An answer it already gave in the current round stands (a masked
    /// input already in the sum cannot be taken out; its self mask is then removed as usual). Returns the abort
    /// notice (code ``AbortCode/clientExcluded``) to send it if it is still reachable.
    public mutating func abortClient(_ client: ClientID) throws(SecAggError) -> ServerMessage {
        try checkInSession()
        guard client.rawValue >= 1, Int(client.rawValue) <= configuration.clientCount else {
            throw .notParticipating(sender: client.rawValue, round: phase.round ?? .advertiseKeys)
        }
        excluded.insert(client.rawValue)
        return .abort(binding: fixedSessionId ?? context.configurationDigest, code: .clientExcluded)
    }

    /// ``abort()`` with the notices encoded.
    public mutating func abortEncoded() throws(SecAggError) -> ServerStep<EncodedOutbox> {
        encoded(try abort())
    }

    /// ``abortClient(_:)`` with the notice encoded.
    public mutating func abortClientEncoded(_ client: ClientID) throws(SecAggError) -> [UInt8] {
        wire.encode(try abortClient(client))
    }

    /// Encodes an outbox (each broadcast once), counting the bytes in `round`.
    public mutating func encode(_ outbox: ServerOutbox, countingIn round: ProtocolRound) -> EncodedOutbox {
        var encoded = EncodedOutbox()
        if let (message, recipients) = outbox.broadcast {
            let bytes = wire.encode(message)
            encoded.broadcast = (bytes, recipients)
            metrics.sent(bytes.count * recipients.count, in: round, messages: recipients.count)
        }
        if outbox.direct.isDeferred {
            // Made and encoded as the transport reads them; counted here from their sizes.
            let wire = wire
            encoded.direct = outbox.direct.encodedMessages ?? outbox.direct.mapMessages { wire.encode($0) }
            for (position, recipient) in outbox.direct.recipients.enumerated() {
                let size = outbox.direct.byteCount(for: recipient) ?? wire.encode(outbox.direct[position].message).count
                metrics.sent(size, in: round)
            }
        } else {
            var stored: [(recipient: ClientID, message: [UInt8])] = []
            for (recipient, message) in outbox.direct {
                let bytes = wire.encode(message)
                stored.append((recipient, bytes))
                metrics.sent(bytes.count, in: round)
            }
            encoded.direct = OutboxMessages(stored)
        }
        return encoded
    }

    private mutating func encoded(_ step: ServerStep<ServerOutbox>) -> ServerStep<EncodedOutbox> {
        switch step {
        case let .nextRound(round, outbox): .nextRound(round, encode(outbox, countingIn: round))
        case let .completed(result, outbox): .completed(result, encode(outbox, countingIn: .unmasking))
        case let .aborted(reason, outbox):
            .aborted(
                reason: reason,
                encode(outbox, countingIn: liveSets.keys.max { $0.rawValue < $1.rawValue } ?? .advertiseKeys))
        }
    }

    private func checkInSession() throws(SecAggError) {
        switch phase {
        case .completed: throw .alreadyCompleted
        case let .aborted(reason): throw .alreadyAborted(reason: reason.description)
        default: break
        }
    }

    /// The round to close and its live set (the clients whose message arrived); the collection starts afresh.
    private mutating func beginClosing() throws(SecAggError) -> (ProtocolRound, ClientSet) {
        try checkInSession()
        guard let round = phase.round else { throw .alreadyCompleted }
        let live = responded
        liveSets[round] = live
        responded = ClientSet(clientCount: configuration.clientCount)
        return (round, live)
    }

    /// Every client needs t live neighbours, so fewer than t + 1 live clients end the session. (Round 0′ is all or
    /// nothing instead: its close checks that every advertiser revealed.)
    private func shortfall(closing round: ProtocolRound, live: ClientSet) -> SecAggError? {
        guard round != .seedReveal, live.count < configuration.threshold + 1 else { return nil }
        return .insufficientClients(round: round, count: live.count, required: configuration.threshold + 1)
    }

    /// One accumulator per extra worker: never more workers than the memory limit leaves room for.
    private mutating func unmaskingWorkers() -> Int {
        let base = configuration.serverMemoryEstimate(unmaskingWorkers: 1)
        let room = max(0, limits.maximumMemoryBytes - base) / max(1, configuration.vectorBytes)
        unmaskingWorkersUsed = max(1, min(unmaskingConcurrency, 1 + room))
        return unmaskingWorkersUsed
    }

    private mutating func conclude(_ closed: Result<Closing.Outcome, SecAggError>) -> ServerStep<ServerOutbox> {
        switch closed {
        case .success(.next(let next, var outbox)):
            // Clients removed with abortClient(_:) get nothing more.
            outbox.direct.removeRecipients { excluded.contains($0.rawValue) }
            outbox.broadcast?.recipients.removeAll { excluded.contains($0.rawValue) }
            enter(next)
            return .nextRound(next.round ?? .unmasking, outbox)
        case let .success(.completed(result)):
            var outbox = ServerOutbox()
            if let sid = fixedSessionId {
                let included = ClientSet(
                    clientCount: configuration.clientCount, members: result.includedClients.map(\.rawValue))
                outbox.direct = OutboxMessages(
                    finalRecipients.map {
                        (
                            $0,
                            .sessionComplete(
                                sessionId: sid, recipient: $0.rawValue, included: included.contains($0.rawValue))
                        )
                    })
            }
            enter(.completed(result))
            return .completed(result, outbox)
        case let .failure(error):
            return abortSession(error)
        }
    }

    private var finalRecipients: [ClientID] { liveSets[.advertiseKeys]?.subtracting(excluded).ids ?? [] }

    private mutating func abortSession(_ reason: SecAggError) -> ServerStep<ServerOutbox> {
        var outbox = ServerOutbox()
        outbox.broadcast = (
            .abort(binding: fixedSessionId ?? context.configurationDigest, code: reason.abortCode), stillInSession
        )
        enter(.aborted(reason))
        return .aborted(reason: reason, outbox)
    }
}

/// A round's state moved out of the server to be closed, possibly on another thread.
final class Closing: @unchecked Sendable {
    enum Outcome {
        case next(ServerPhase, ServerOutbox)
        case completed(AggregationResult)
    }

    /// Taken exactly once by ``run(context:workers:)`` (so that the sum's buffer has one owner).
    private var phase: ServerPhase?
    private let live: ClientSet

    init(phase: ServerPhase, live: ClientSet) {
        self.phase = phase
        self.live = live
    }

    func run(context: ServerContext, workers: Int) -> Result<Outcome, SecAggError> {
        guard let taken = phase.take() else { return .failure(.alreadyCompleted) }
        do throws(SecAggError) {
            switch consume taken {
            case let .advertiseKeys(r):
                let (next, outbox) = try r.close(u1: live, context: context)
                return .success(.next(next, outbox))
            case let .seedReveal(r):
                let (next, outbox) = try r.close(revealed: live, context: context)
                return .success(.next(next, outbox))
            case let .shareKeys(r):
                let (next, outbox) = r.close(u2: live)
                return .success(.next(next, outbox))
            case let .maskedInput(r):
                let (next, outbox) = r.close(u3: live)
                return .success(.next(next, outbox))
            case let .consistencyCheck(r):
                let (next, outbox) = r.close(u4: live)
                return .success(.next(next, outbox))
            case let .unmasking(r):
                return .success(.completed(try r.finish(u5: live, workers: workers)))
            case .completed, .aborted, .transitioning:
                return .failure(.alreadyCompleted)
            }
        } catch {
            return .failure(error)
        }
    }
}
