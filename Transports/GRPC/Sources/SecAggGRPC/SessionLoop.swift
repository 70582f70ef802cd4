import GRPCCore
import Logging
public import SecureAggregation

/// One Join stream, as the coordinator sees it.
typealias StreamID = Int

/// What the coordinator hands a stream's writer.
enum Outbound: Sendable {
    /// One SPEC.md §12 server message.
    case message([UInt8])
    /// The coordinator is done with the stream: end the RPC, with this status when not nil (else OK).
    case end(RPCError?)
}

/// How the coordinator treated a stream's open or frame.
enum Verdict: Sendable {
    /// Accepted; read the next frame.
    case accepted
    /// Refused; the coordinator has ended the stream's outbound side (with this error), stop reading.
    case refused(RPCError)
}

/// What the Join handlers tell the session loop. Each stream has at most one `opened` or `frame` event waiting for
/// its verdict, so the queue is bounded by the number of streams (itself bounded at admission).
enum SessionEvent: Sendable {
    case opened(
        StreamID, peer: String, certifiedIndex: UInt32?, outbound: AsyncStream<Outbound>.Continuation,
        reply: CheckedContinuation<Verdict, Never>)
    case frame(StreamID, index: UInt32, bytes: [UInt8], reply: CheckedContinuation<Verdict, Never>)
    case closed(StreamID, reason: String)
    case deadline(generation: Int)
}

/// One closed round, for the log and the report.
public struct RoundReport: Sendable, Hashable, Codable {
    /// The round's name (`advertise-keys`, …).
    public var round: String
    /// Clients whose message of the round was accepted.
    public var answered: Int
    /// Clients the round awaited (answered + dropped).
    public var expected: Int
    /// Clients that did not answer by the close, or whose connection died or misbehaved during the round.
    public var dropped: [UInt32]
    /// True when every awaited client answered (or was removed) before the deadline.
    public var closedEarly: Bool
    /// From the round's start (its requests sent) to its close, in seconds (the unmasking close included).
    public var seconds: Double
    /// Bytes of accepted client messages in the round.
    public var bytesIn: Int
    /// Bytes of the server messages sent when the round closed.
    public var bytesOut: Int

    enum CodingKeys: String, CodingKey {
        case round, answered, expected, dropped, seconds
        case closedEarly = "closed_early"
        case bytesIn = "bytes_in"
        case bytesOut = "bytes_out"
    }
}

/// How one session ended.
public struct SessionReport: Sendable {
    /// The aggregate when the session completed.
    public var result: AggregationResult?
    /// Why the session did not complete (nil when it did).
    public var abortReason: String?
    /// Every closed round, in order.
    public var rounds: [RoundReport]
    /// From the first stream to the end-of-session messages handed to the streams, in seconds.
    public var sessionSeconds: Double
    /// The server's counters.
    public var metrics: PartyMetrics
}

/// How a server tells which client index a stream may speak for.
public enum ClientAuthentication: Sendable, Hashable {
    /// The index the first frame claims. It is bound to the stream only once the engine accepted the round-0
    /// message sent with it (in the active model that message is signed with the client's configured key, so the
    /// binding is authenticated; in the semi-honest model it is first come, first served).
    case claimedIndex
    /// The TLS client certificate's subject common name must be `prefix` followed by the index (e.g.
    /// `secagg-client-7`); a stream without such a certificate is refused.
    case certificateCommonName(prefix: String)
}

/// The session loop: the one task that owns the ``SecAggServer``. Join handlers post events; the loop accepts
/// frames, binds streams to client indices, closes each round early once every awaited client answered
/// (``SecAggServer/isRoundComplete``) or at its deadline, and sends the step's outbox.
struct SessionLoop {
    private struct Stream {
        var outbound: AsyncStream<Outbound>.Continuation
        var peer: String
        var certifiedIndex: UInt32?
        var bound: UInt32?
    }

    private var server: SecAggServer
    private let sink: AsyncStream<SessionEvent>.Continuation
    private let roundTimeout: Duration
    private let authentication: ClientAuthentication
    private let maximumStreams: Int
    private let logger: Logger
    private let clock = ContinuousClock()

    private var streams: [StreamID: Stream] = [:]
    private var owners: [UInt32: StreamID] = [:]
    private var generation = 0
    private var timer: Task<Void, Never>?
    private var firstJoin: ContinuousClock.Instant?
    private var roundStart: ContinuousClock.Instant?
    private var removedThisRound: [UInt32] = []
    private var rounds: [RoundReport] = []
    private var finished = false
    private var abortReason: String?

    init(
        server: SecAggServer, sink: AsyncStream<SessionEvent>.Continuation, roundTimeout: Duration,
        authentication: ClientAuthentication, maximumStreams: Int, logger: Logger
    ) {
        self.server = server
        self.sink = sink
        self.roundTimeout = roundTimeout
        self.authentication = authentication
        self.maximumStreams = maximumStreams
        self.logger = logger
    }

    private var n: Int { server.configuration.clientCount }

    /// Runs the session to its end, then ends every stream and answers every event still queued.
    mutating func run(events: AsyncStream<SessionEvent>) async -> SessionReport {
        var iterator = events.makeAsyncIterator()
        while !finished, let event = await iterator.next() {
            switch event {
            case let .opened(id, peer, certified, outbound, reply):
                reply.resume(returning: open(id, peer: peer, certifiedIndex: certified, outbound: outbound))
            case let .frame(id, index, bytes, reply):
                reply.resume(returning: accept(id, index: index, bytes: bytes))
            case let .closed(id, reason):
                close(id, reason: reason)
            case let .deadline(expired):
                if expired == generation, roundStart != nil { await closeRound(early: false) }
            }
            while !finished, roundStart != nil, server.isRoundComplete { await closeRound(early: true) }
        }
        timer?.cancel()
        let end = clock.now
        let over = RPCError(code: .unavailable, message: "the session is over")
        for id in Array(streams.keys) { endStream(id, error: nil) }
        sink.finish()
        while let event = await iterator.next() {
            switch event {
            case let .opened(_, _, _, outbound, reply):
                outbound.yield(.end(over))
                outbound.finish()
                reply.resume(returning: .refused(over))
            case let .frame(_, _, _, reply): reply.resume(returning: .refused(over))
            case .closed, .deadline: break
            }
        }
        return SessionReport(
            result: server.result, abortReason: abortReason, rounds: rounds,
            sessionSeconds: firstJoin.map { (end - $0).seconds } ?? 0, metrics: server.metrics)
    }

    // MARK: Events

    private mutating func open(
        _ id: StreamID, peer: String, certifiedIndex: UInt32?, outbound: AsyncStream<Outbound>.Continuation
    ) -> Verdict {
        func refuse(_ error: RPCError) -> Verdict {
            outbound.yield(.end(error))
            outbound.finish()
            return .refused(error)
        }
        guard streams.count < maximumStreams else {
            logger.warning("refused a stream from \(peer): \(streams.count) streams open already")
            return refuse(RPCError(code: .resourceExhausted, message: "too many streams"))
        }
        if case let .certificateCommonName(prefix) = authentication, certifiedIndex == nil {
            logger.warning("refused a stream from \(peer): no client certificate named \(prefix)<index>")
            return refuse(
                RPCError(
                    code: .unauthenticated,
                    message: "a client certificate whose common name is \(prefix)<index> is required"))
        }
        streams[id] = Stream(outbound: outbound, peer: peer, certifiedIndex: certifiedIndex)
        if firstJoin == nil {
            firstJoin = clock.now
            startRound()
        }
        return .accepted
    }

    private mutating func accept(_ id: StreamID, index: UInt32, bytes: [UInt8]) -> Verdict {
        guard let stream = streams[id], let round = server.currentRound else {
            return .refused(RPCError(code: .unavailable, message: "the session is over"))
        }
        let limit = server.configuration.maximumClientMessageByteCount(in: round)
        if let client = stream.bound {
            guard index == 0 || index == client else {
                return remove(client, because: "its frame names client \(index)", code: .invalidArgument)
            }
            guard bytes.count <= limit else {
                return remove(
                    client, because: "a \(bytes.count)-byte message exceeds the \(limit)-byte limit of \(round)",
                    code: .resourceExhausted)
            }
            do {
                try server.receive(encoded: bytes, from: ClientID(client))
                return .accepted
            } catch {
                return remove(client, because: "its \(round) message was rejected: \(error)", code: .invalidArgument)
            }
        }
        // An unbound stream: the first frame must name a free index and carry an acceptable round-0 message.
        func refuse(_ code: RPCError.Code, _ message: String) -> Verdict {
            logger.notice("refused a stream from \(stream.peer): \(message)")
            let error = RPCError(code: code, message: message)
            endStream(id, error: error)
            return .refused(error)
        }
        guard round == .advertiseKeys else {
            return refuse(.failedPrecondition, "the session has started: clients join only in advertise-keys")
        }
        guard index >= 1, Int(index) <= n else {
            return refuse(.invalidArgument, "client index \(index) is not in 1...\(n)")
        }
        if let certified = stream.certifiedIndex, certified != index {
            return refuse(.permissionDenied, "the client certificate is for client \(certified), not \(index)")
        }
        guard owners[index] == nil else {
            return refuse(.alreadyExists, "client \(index) has joined on another stream")
        }
        guard bytes.count <= limit else {
            return refuse(
                .resourceExhausted, "a \(bytes.count)-byte message exceeds the \(limit)-byte limit of \(round)")
        }
        do {
            try server.receive(encoded: bytes, from: ClientID(index))
        } catch {
            return refuse(.invalidArgument, "the round-0 message for client \(index) was rejected: \(error)")
        }
        streams[id]?.bound = index
        owners[index] = id
        logger.debug("client \(index) joined from \(stream.peer)")
        return .accepted
    }

    private mutating func close(_ id: StreamID, reason: String) {
        guard let stream = streams[id] else { return }
        if let client = stream.bound {
            _ = remove(client, because: "its connection ended (\(reason))", code: .unavailable, notify: false)
        } else {
            endStream(id, error: nil)
        }
    }

    /// Removes a client from the session (``SecAggServer/abortClientEncoded(_:)``): it is no longer awaited, gets
    /// the abort notice when reachable, and its stream ends with `code`.
    private mutating func remove(
        _ client: UInt32, because reason: String, code: RPCError.Code, notify: Bool = true
    ) -> Verdict {
        let round = server.currentRound.map(String.init(describing:)) ?? "the end"
        logger.warning("client \(client) removed in \(round): \(reason)")
        let error = RPCError(code: code, message: "removed from the session: \(reason)")
        let notice = try? server.abortClientEncoded(ClientID(client))
        if let id = owners.removeValue(forKey: client) {
            if notify, let notice { streams[id]?.outbound.yield(.message(notice)) }
            endStream(id, error: code == .unavailable ? nil : error)
        }
        removedThisRound.append(client)
        return .refused(error)
    }

    private mutating func endStream(_ id: StreamID, error: RPCError?) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        if let client = stream.bound, owners[client] == id { owners[client] = nil }
        stream.outbound.yield(.end(error))
        stream.outbound.finish()
    }

    // MARK: Rounds

    private mutating func startRound() {
        generation += 1
        roundStart = clock.now
        removedThisRound = []
        timer?.cancel()
        let expired = generation
        let (timeout, sink) = (roundTimeout, sink)
        timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { sink.yield(.deadline(generation: expired)) }
        }
    }

    private mutating func closeRound(early: Bool) async {
        guard let round = server.currentRound, let start = roundStart else { return }
        timer?.cancel()
        let awaited = server.awaitedClients.map(\.rawValue)
        let bytesIn = server.metrics.traffic[round]?.bytesReceived ?? 0
        let step: ServerStep<EncodedOutbox>
        do {
            step = try await server.advanceEncodedAsync()
        } catch {
            // Only when the session was already over, which the loop never lets happen.
            logger.error("advance failed: \(error)")
            abortReason = "\(error)"
            finished = true
            return
        }
        var bytesOut = 0
        var recipients = Set<UInt32>()
        for (recipient, bytes) in step.outbox.allMessages {
            bytesOut += bytes.count
            recipients.insert(recipient.rawValue)
            if let id = owners[recipient.rawValue] { streams[id]?.outbound.yield(.message(bytes)) }
        }
        let dropped = Set(awaited).union(removedThisRound).sorted()
        let answered = server.liveClients(after: round).count
        let report = RoundReport(
            round: round.description, answered: answered, expected: answered + dropped.count, dropped: dropped,
            closedEarly: early, seconds: (clock.now - start).seconds, bytesIn: bytesIn, bytesOut: bytesOut)
        rounds.append(report)
        logger.info("\(Self.line(report))")

        switch step {
        case .nextRound:
            // Bound clients that the next round does not address were dropped: tell them and end their streams.
            for (client, id) in owners where !recipients.contains(client) {
                if let notice = try? server.abortClientEncoded(ClientID(client)) {
                    streams[id]?.outbound.yield(.message(notice))
                }
                endStream(id, error: nil)
            }
            // Streams that never joined cannot join any more.
            for (id, stream) in streams where stream.bound == nil {
                logger.notice("ended a stream from \(stream.peer) that did not join in advertise-keys")
                endStream(
                    id, error: RPCError(code: .failedPrecondition, message: "the session started without this stream"))
            }
            startRound()
        case let .completed(result, _):
            let flagged =
                result.flaggedClients.isEmpty
                ? "" : "; flagged: \(result.flaggedClients.map(\.description).joined(separator: "; "))"
            logger.info(
                "session completed: \(result.includedClients.count) of \(n) clients' inputs in the aggregate\(flagged)")
            finish()
        case let .aborted(reason, _):
            logger.error("session aborted: \(reason)")
            abortReason = reason.description
            finish()
        }
    }

    private mutating func finish() {
        finished = true
        roundStart = nil
        timer?.cancel()
    }

    /// One log line per round: live counts, dropouts, bytes and time.
    static func line(_ r: RoundReport) -> String {
        let dropped =
            r.dropped.isEmpty
            ? "none dropped"
            : "\(r.dropped.count) dropped (\(r.dropped.prefix(12).map(String.init).joined(separator: ", "))"
                + (r.dropped.count > 12 ? ", …)" : ")")
        return "round \(r.round): \(r.answered)/\(r.expected) answered, \(dropped), closed "
            + (r.closedEarly ? "early" : "at the deadline") + " after \(formatSeconds(r.seconds)); in "
            + "\(formatBytes(r.bytesIn)), out \(formatBytes(r.bytesOut))"
    }
}

/// "0.123 s".
func formatSeconds(_ seconds: Double) -> String {
    let milliseconds = (seconds * 1000).rounded()
    return "\(Double(milliseconds) / 1000) s"
}

/// "1.2 MB", "340 B".
func formatBytes(_ count: Int) -> String {
    if count < 1_000 { return "\(count) B" }
    if count < 1_000_000 { return "\((Double(count) / 100).rounded() / 10) kB" }
    return "\((Double(count) / 100_000).rounded() / 10) MB"
}
