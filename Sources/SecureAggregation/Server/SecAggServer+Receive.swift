extension SecAggServer {
    /// Decodes and accepts one client message from `sender`, whom the transport authenticated (SPEC.md §11.5:
    /// the engine trusts this id; a transport that lets one client speak for another breaks the protocol).
    public mutating func receive(encoded bytes: [UInt8], from sender: ClientID) throws(SecAggError) {
        let payload: ClientPayload
        do {
            payload = try wire.decodeClientPayload(bytes)
        } catch {
            metrics.rejectedMessages += 1
            throw error
        }
        try receive(payload, from: sender)
        metrics.received(bytes.count, in: payload.round)
    }

    /// Accepts one client message. A rejected message (any thrown error) leaves the server unchanged.
    public mutating func receive(_ message: ClientMessage, from sender: ClientID) throws(SecAggError) {
        try receive(.message(message), from: sender)
    }

    private mutating func receive(_ payload: ClientPayload, from sender: ClientID) throws(SecAggError) {
        do {
            try accept(payload, from: sender.rawValue)
            responded.insert(sender.rawValue)
        } catch {
            metrics.rejectedMessages += 1
            throw error
        }
    }

    private mutating func accept(_ payload: ClientPayload, from sender: UInt32) throws(SecAggError) {
        switch phase {
        case .completed: throw .alreadyCompleted
        case let .aborted(reason): throw .alreadyAborted(reason: reason.description)
        default: break
        }
        guard let round = phase.round, payload.round == round else {
            if let round = phase.round, payload.round.rawValue < round.rawValue {
                throw .notParticipating(sender: sender, round: payload.round)
            }
            throw .unexpectedMessage(expected: phase.round?.description ?? "none", received: payload.round.description)
        }
        guard payload.sender == sender else {
            throw .invalidClientMessage(sender: sender, reason: "message claims to be from client \(payload.sender)")
        }
        guard sender >= 1, Int(sender) <= configuration.clientCount, !excluded.contains(sender) else {
            throw .notParticipating(sender: sender, round: round)
        }
        if let eligible = phase.eligible, !eligible.contains(sender) {
            throw .notParticipating(sender: sender, round: round)
        }
        guard !responded.contains(sender) else { throw .duplicateMessage(sender: sender, round: round) }

        // Each round's state is moved out while it changes, so that its buffers are not copied (each switch has the
        // state alone as its subject); every check comes before the first change, so a rejected message restores
        // the state unchanged. Only round 1 takes a flat payload (the round check above sends it nowhere else).
        let message: ClientMessage
        switch payload {
        case let .message(typed): message = typed
        case .shareKeys:
            switch phase.take(during: round) {
            case var .shareKeys(r):
                defer { phase = .shareKeys(r) }
                try r.accept(payload, from: sender)
                return
            case let other:
                phase = other
                throw .unexpectedMessage(expected: round.description, received: payload.round.description)
            }
        }
        switch phase.take(during: round) {
        case var .advertiseKeys(r):
            defer { phase = .advertiseKeys(r) }
            try r.accept(message, from: sender, context: context)
        case var .seedReveal(r):
            defer { phase = .seedReveal(r) }
            try r.accept(message, from: sender, context: context)
        case var .shareKeys(r):
            defer { phase = .shareKeys(r) }
            try r.accept(payload, from: sender)
        case var .maskedInput(r):
            defer { phase = .maskedInput(r) }
            try r.accept(message, from: sender)
        case var .consistencyCheck(r):
            defer { phase = .consistencyCheck(r) }
            try r.accept(message, from: sender)
        case var .unmasking(r):
            defer { phase = .unmasking(r) }
            try r.accept(message, from: sender)
        case let other:
            phase = other
        }
    }
}

extension ServerPhase {
    /// Moves the state out, leaving `.transitioning(round)`: the caller owns the only reference to its buffers.
    mutating func take(during round: ProtocolRound) -> ServerPhase {
        let taken = self
        self = .transitioning(round)
        return taken
    }
}
