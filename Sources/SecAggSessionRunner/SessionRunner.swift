package import SecAggCrypto
package import SecureAggregation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One client of an in-process session with its own random stream, so that running clients side by side stays
/// reproducible.
package struct SessionParty: @unchecked Sendable {
    package var engine: SecAggClient
    package var rng: DeterministicRandomGenerator
    /// Dropped (by the schedule) or failed: handed nothing more.
    package var gone = false

    package init(engine: SecAggClient, rng: DeterministicRandomGenerator) {
        self.engine = engine
        self.rng = rng
    }
}

/// The clock that times a client's handling of one message: its thread's CPU time (the client's cost on one core,
/// while other clients run side by side), or the wall clock when the client itself uses several threads.
package enum ClientClock: Sendable {
    case threadCpu
    case wall

    /// Seconds since an arbitrary origin.
    package func now() -> Double { self == .wall ? wallSeconds() : threadCpuSeconds() }
}

/// CPU time of the calling thread, in seconds.
package func threadCpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Wall-clock seconds since an arbitrary origin.
package func wallSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// A message the runner moved, in the order it moved them.
package struct RunnerMessage: Sendable {
    /// The round the message belongs to: a client message answers it, a server message starts it; nil for the
    /// end-of-session message and abort notices.
    package var round: ProtocolRound?
    /// True for client → server.
    package var fromClient: Bool
    /// The sender (client message) or the recipient (server message).
    package var client: ClientID
    package var bytes: [UInt8]
    /// Client messages: nil when the server accepted it, else why it refused it.
    package var rejection: SecAggError?
}

/// A round's server messages in recipient order, read one at a time so that deferred ones are made only when handed
/// out (``OutboxMessages``).
struct PendingMessages {
    private let direct: OutboxMessages<[UInt8]>
    private let order: [Int]
    private let broadcast: (bytes: [UInt8], recipients: [ClientID])?

    init(direct: OutboxMessages<[UInt8]>) {
        self.direct = direct
        order = Array(direct.indices)
        broadcast = nil
    }

    init(_ outbox: EncodedOutbox) {
        direct = outbox.direct
        let recipients = outbox.direct.recipients
        order = direct.indices.sorted { recipients[$0] < recipients[$1] }
        broadcast = outbox.broadcast.map { ($0.bytes, $0.recipients.sorted()) }
    }

    var count: Int { order.count + (broadcast?.recipients.count ?? 0) }

    subscript(position: Int) -> (recipient: ClientID, bytes: [UInt8]) {
        if position < order.count {
            let element = direct[order[position]]
            return (element.recipient, element.message)
        }
        let broadcast = broadcast!
        return (broadcast.recipients[position - order.count], broadcast.bytes)
    }
}

/// What one client did with one server message.
package enum ClientStepOutcome: Sendable {
    /// Scheduled to drop in this round, or gone since an earlier drop or failure: not run.
    case dropped
    /// The engine refused the message (or the input); the client is gone from now on.
    case failed(SecAggError)
    /// The encoded reply and the seconds the client spent on it.
    case reply([UInt8], seconds: Double)
    /// Handled without a reply, in that many seconds.
    case none(seconds: Double)
}

/// The one driver of whole in-process sessions: the simulator, the benchmarks, the transcript generator and the
/// tests all run sessions through it, every message through the wire encoding, with hooks for drops, inputs,
/// clocks, recording and tampering.
///
/// Order (what transcripts record): round 0 by every client in index order; then for each round the server's
/// messages in recipient order, a batch at a time, each client answering (side by side when `concurrency` > 1),
/// then the batch's replies in index order; then the server closes the round.
package struct SessionRunner {
    package var server: SecAggServer
    package var parties: [SessionParty]
    package var hooks = Hooks()

    package struct Hooks {
        /// Whether a client answers the server message that starts a round; false drops it for good.
        package var answers: @Sendable (ClientID, ProtocolRound) -> Bool = { _, _ in true }
        /// Inputs handed over in the masked-input round, a batch at a time (nil: given at construction), with
        /// the session id the client computed (inputs that depend on it, such as distributed-DP encodings).
        package var input: ((ClientID, SessionID?) throws -> [[UInt64]])?
        /// Clients answering side by side, and the clock that times each.
        package var concurrency = 1
        package var clock = ClientClock.threadCpu
        /// Whether handing the input to the engine counts as the client's work.
        package var timesInput = true
        /// Server messages handed out between server hand-offs (bounds the replies in flight).
        package var batchSize = 64
        /// Rewrites (or, with nil, swallows) a server message before its recipient sees it.
        package var tamper: ((ClientID, ProtocolRound, [UInt8]) -> [UInt8]?)?
        /// Every message, in order.
        package var onMessage: ((RunnerMessage) -> Void)?
        /// Every client step, with its outcome.
        package var onClientStep: ((ClientID, ProtocolRound, ClientStepOutcome) -> Void)?
        /// A client's accepted masked input (for a reference sum of exactly what the server summed).
        package var onMaskedInputAccepted: ((ClientID) throws -> Void)?
        /// After a round closed: the round, the server's seconds receiving it and closing it, and the step.
        package var onRoundClosed: ((ProtocolRound, Double, Double, ServerStep<EncodedOutbox>) -> Void)?
        /// A round's messages are about to be handed out (to this many clients).
        package var onRoundStarted: ((ProtocolRound, Int) -> Void)?
        /// One client finished its step (called from the thread that ran it; progress bars).
        package var onClientFinished: (@Sendable () -> Void)?
        /// Every reply of the round is in; the server closes it now.
        package var onServerStarted: (() -> Void)?

        package init() {}
    }

    /// How the session ended.
    package struct Outcome: Sendable {
        package var result: AggregationResult?
        /// Why the server aborted, when it did.
        package var abort: SecAggError?
        /// Clients the engine stopped, with why.
        package var clientErrors: [ClientID: SecAggError] = [:]
    }

    /// A server and clients 1…n; client u's input is `inputs[u − 1]` when given, its generator
    /// `generators[u − 1]`, its signing key `signingKeys[u − 1]` (active model).
    package init(
        configuration: SessionConfiguration, inputs: [[[UInt64]]]? = nil, generators: [DeterministicRandomGenerator],
        signingKeys: [Ed25519.PrivateKey?] = [], serverLimits: ResourceLimits = .default, serverConcurrency: Int = 1,
        clientMaskingConcurrency: Int = 1
    ) throws(SecAggError) {
        let n = configuration.clientCount
        guard generators.count == n else { throw .invalidConfiguration(reason: "one generator per client") }
        server = try SecAggServer(configuration: configuration, limits: serverLimits)
        server.unmaskingConcurrency = max(1, serverConcurrency)
        parties = []
        parties.reserveCapacity(n)
        for position in 0..<n {
            var engine = try SecAggClient(
                configuration: configuration, index: ClientID(UInt32(position + 1)), input: inputs?[position],
                signingKey: position < signingKeys.count ? signingKeys[position] : nil)
            engine.maskingConcurrency = max(1, clientMaskingConcurrency)
            parties.append(SessionParty(engine: engine, rng: generators[position]))
        }
    }

    /// Client u's generator for a run keyed by `masterSeed`: SHA-256(masterSeed || LE32(u)) seeds it.
    package static func generators(clientCount n: Int, masterSeed: [UInt8]) throws(SecAggCryptoError)
        -> [DeterministicRandomGenerator]
    {
        var out: [DeterministicRandomGenerator] = []
        out.reserveCapacity(n)
        for u in 1...max(1, n) {
            var seed = masterSeed
            appendLittleEndian(UInt32(u), to: &seed)
            out.append(try DeterministicRandomGenerator(seed: Hkdf.sha256(seed)))
        }
        return out
    }

    /// Runs the session to its end. Throws only what the input hook or an observer throws.
    package mutating func run() throws -> Outcome {
        var outcome = Outcome()
        var pending = PendingMessages(
            direct: OutboxMessages(parties.indices.map { (ClientID(UInt32($0 + 1)), [UInt8]()) }))
        var round = ProtocolRound.advertiseKeys
        while true {
            hooks.onRoundStarted?(round, pending.count)
            let receiveSeconds = try play(pending, round: round, outcome: &outcome)
            hooks.onServerStarted?()
            let t0 = wallSeconds()
            let step = try server.advanceEncoded()
            hooks.onRoundClosed?(round, receiveSeconds, wallSeconds() - t0, step)
            switch step {
            case let .nextRound(next, outbox):
                round = next
                pending = PendingMessages(outbox)
            case let .completed(result, outbox):
                outcome.result = result
                deliverFinal(outbox)
                return outcome
            case let .aborted(reason, outbox):
                outcome.abort = reason
                deliverFinal(outbox)
                return outcome
            }
        }
    }

    /// Hands the round's messages to the clients and their replies to the server, a batch at a time; returns the
    /// server's seconds making the round's deferred messages and receiving the replies.
    private mutating func play(_ pending: PendingMessages, round: ProtocolRound, outcome: inout Outcome) throws -> Double {
        var serverSeconds = 0.0
        var start = 0
        while start < pending.count {
            // Deferred messages (neighbourhoods, forwarded shares) are made here, a batch at a time: server work,
            // timed as such.
            let made = wallSeconds()
            let batch = (start..<min(start + max(1, hooks.batchSize), pending.count)).map { pending[$0] }
            serverSeconds += wallSeconds() - made
            start += batch.count
            var delivered: [(recipient: ClientID, bytes: [UInt8])] = []
            var inputs: [ClientID: [[UInt64]]] = [:]
            for (recipient, original) in batch {
                var bytes = original
                if round != .advertiseKeys {
                    if let tamper = hooks.tamper {
                        guard let changed = tamper(recipient, round, original) else { continue }
                        bytes = changed
                    }
                    hooks.onMessage?(RunnerMessage(round: round, fromClient: false, client: recipient, bytes: bytes))
                }
                delivered.append((recipient, bytes))
                let party = parties[recipient.position]
                if round == .maskedInputCollection, let input = hooks.input, !party.gone,
                    hooks.answers(recipient, round)
                {
                    inputs[recipient] = try input(recipient, party.engine.sessionID)
                }
            }
            let results = answer(delivered, round: round, inputs: inputs)
            for ((recipient, _), result) in zip(delivered, results) {
                hooks.onClientStep?(recipient, round, result)
                if case let .failed(error) = result { outcome.clientErrors[recipient] = error }
                guard case let .reply(bytes, _) = result else { continue }
                let t0 = wallSeconds()
                var rejection: SecAggError?
                do {
                    try server.receive(encoded: bytes, from: recipient)
                } catch {
                    rejection = error
                }
                serverSeconds += wallSeconds() - t0
                hooks.onMessage?(
                    RunnerMessage(round: round, fromClient: true, client: recipient, bytes: bytes, rejection: rejection)
                )
                if rejection == nil, round == .maskedInputCollection { try hooks.onMaskedInputAccepted?(recipient) }
            }
        }
        return serverSeconds
    }

    /// The end-of-session message or the abort notices, to every client still listening.
    private mutating func deliverFinal(_ outbox: EncodedOutbox) {
        for (recipient, bytes) in outbox.allMessages.sorted(by: { $0.recipient < $1.recipient }) {
            guard !parties[recipient.position].gone else { continue }
            hooks.onMessage?(RunnerMessage(round: nil, fromClient: false, client: recipient, bytes: bytes))
            _ = try? parties[recipient.position].engine.handle(encoded: bytes)
        }
    }

    /// Lets each client of the batch handle its message (side by side when `concurrency` > 1); the outcomes in
    /// batch order. Round 0 starts the client instead.
    private mutating func answer(
        _ batch: [(recipient: ClientID, bytes: [UInt8])], round: ProtocolRound, inputs: [ClientID: [[UInt64]]]
    ) -> [ClientStepOutcome] {
        let results = UnsafeMutableBufferPointer<ClientStepOutcome>.allocate(capacity: batch.count)
        results.initialize(repeating: .dropped)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let (answers, clock, timesInput) = (hooks.answers, hooks.clock, hooks.timesInput)
        let finished = hooks.onClientFinished
        let concurrency = hooks.concurrency
        parties.withUnsafeMutableBufferPointer { all in
            nonisolated(unsafe) let all = all
            nonisolated(unsafe) let results = results
            let work: @Sendable (Int) -> Void = { i in
                defer { finished?() }
                let (recipient, bytes) = batch[i]
                let slot = recipient.position
                if all[slot].gone || !answers(recipient, round) {
                    all[slot].gone = true
                    results[i] = .dropped
                    return
                }
                var t0 = clock.now()
                do throws(SecAggError) {
                    if let input = inputs[recipient] { try all[slot].engine.provideInput(input) }
                    if !timesInput { t0 = clock.now() }
                    var rng = all[slot].rng
                    let reply: [UInt8]? =
                        round == .advertiseKeys
                        ? try all[slot].engine.startEncoded(using: &rng)
                        : try all[slot].engine.handle(encoded: bytes, using: &rng)
                    let seconds = clock.now() - t0
                    all[slot].rng = rng
                    results[i] = reply.map { .reply($0, seconds: seconds) } ?? .none(seconds: seconds)
                } catch {
                    all[slot].gone = true
                    results[i] = .failed(error)
                }
            }
            // The engine's own fan-out: threads of its own, one client at a time per thread.
            ParallelWork.forEach(count: batch.count, concurrency: concurrency, batch: 1, work)
        }
        return Array(results)
    }
}
