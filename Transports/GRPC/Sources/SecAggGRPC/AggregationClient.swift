import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
public import SecAggCrypto
public import SecureAggregation

/// How a client secures its connection.
public enum ClientSecurity: Sendable, Hashable {
    /// No encryption or server authentication: only when asked for explicitly (`--plaintext`).
    case plaintext
    /// TLS, verifying the server's certificate against `trustRoots` (a PEM file of CA certificates; nil: the
    /// system's roots) and its name against `serverHostname` (nil: the host connected to). With `certificateChain`
    /// and `privateKey`, the client presents its own certificate (mutual TLS).
    case tls(trustRoots: String?, certificateChain: String?, privateKey: String?, serverHostname: String?)
}

/// Everything a client needs to join one session.
public struct JoinOptions: Sendable {
    /// The server's host.
    public var host: String
    /// The server's port.
    public var port: Int
    /// TLS or plaintext.
    public var security: ClientSecurity
    /// This client's index 1...n.
    public var index: ClientID
    /// What this client accepts.
    public var policy = ClientPolicy()
    /// The clip range this client expects (nil: the server's). An offer with another one is refused.
    public var expectedClip: Double?
    /// Active model: this client's signing key.
    public var signingKey: Ed25519.PrivateKey?
    /// How long to wait for the connection and the offer.
    public var connectTimeout: Duration = .seconds(30)
    /// Test hook: once the reply to this round was accepted (the next server message arrived), stop answering —
    /// log `paused after <round>` and sleep until the process is killed. Lets a test kill a client at a known
    /// point of the protocol.
    public var pauseAfter: ProtocolRound?

    /// Options for client `index` of the server at `host:port`.
    public init(host: String, port: Int, security: ClientSecurity, index: ClientID) {
        self.host = host
        self.port = port
        self.security = security
        self.index = index
    }
}

/// How a client's session went.
public struct JoinReport: Sendable {
    /// The offer this client accepted.
    public var offer: SessionOffer
    /// Whether the server's end-of-session message says this client's input is in the aggregate.
    public var inputIncluded: Bool
    /// The client's counters.
    public var metrics: PartyMetrics
}

/// What a test may do to a client's reply (package access: tests only).
package enum ReplyAction: Sendable {
    /// Send these bytes instead.
    case send([UInt8])
    /// Close the stream and the connection.
    case disconnect
}

/// Test hooks of ``AggregationClient/join(_:valueCount:logger:hooks:input:)`` (package access: tests only).
package struct ClientHooks: Sendable {
    /// Called with each reply before it is sent: the round it answers and its bytes.
    package var reply: (@Sendable (ProtocolRound, [UInt8]) -> ReplyAction)?

    package init(reply: (@Sendable (ProtocolRound, [UInt8]) -> ReplyAction)? = nil) {
        self.reply = reply
    }
}

/// The aggregation client: fetches the server's offer, checks it against a ``ClientPolicy``, and runs one
/// ``SecAggClient`` over a `Join` stream (see ``AggregationServer`` for why one stream per session).
public enum AggregationClient {
    /// Runs one client to the end of the session.
    ///
    /// `input` turns the accepted offer into this client's vector (quantizing its update with the offer's plan);
    /// it runs after the policy check, before anything is sent. Returns when the server's end-of-session message
    /// arrived; throws ``NodeError/policyRefused(_:)`` before sending anything when the offer breaks the policy,
    /// and ``NodeError/sessionAborted(_:)`` when the session ended otherwise.
    public static func join(
        _ options: JoinOptions, valueCount: Int, logger: Logger,
        input: @Sendable (SessionOffer) throws(NodeError) -> [UInt64]
    ) async throws(NodeError) -> JoinReport {
        try await join(options, valueCount: valueCount, logger: logger, hooks: ClientHooks(), input: input)
    }

    package static func join(
        _ options: JoinOptions, valueCount: Int, logger: Logger, hooks: ClientHooks,
        input: @Sendable (SessionOffer) throws(NodeError) -> [UInt64]
    ) async throws(NodeError) -> JoinReport {
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: options.host, port: options.port),
                transportSecurity: transportSecurity(options.security),
                config: .defaults { config in
                    // The name the server's certificate must carry (and the HTTP/2 authority).
                    if case let .tls(_, _, _, hostname?) = options.security { config.http2.authority = hostname }
                    config.http2.targetWindowSize = 1 << 23
                    config.backoff.initial = .milliseconds(100)
                    config.backoff.max = .seconds(2)
                })
        } catch let error as NodeError {
            throw error
        } catch {
            throw .transport("cannot set up the connection to \(options.host):\(options.port): \(error)")
        }
        // Not `withGRPCClient`: its graceful shutdown waits for the connection to close, and a client must not hang
        // on a server that stops answering after the session; the connections get two seconds, then are cancelled.
        let grpc = GRPCClient(transport: transport)
        let connections = Task { try await grpc.runConnections() }
        defer { connections.cancel() }
        do {
            let report = try await run(
                options, valueCount: valueCount, logger: logger, hooks: hooks, input: input, grpc: grpc)
            grpc.beginGracefulShutdown()
            _ = await finishes(connections, within: .seconds(2))
            return report
        } catch let error as NodeError {
            throw error
        } catch let error as RPCError {
            throw .transport("\(error.code): \(error.message)")
        } catch {
            throw .transport("\(error)")
        }
    }

    private static func run(
        _ options: JoinOptions, valueCount: Int, logger: Logger, hooks: ClientHooks,
        input: (SessionOffer) throws(NodeError) -> [UInt64], grpc: GRPCClient<HTTP2ClientTransport.Posix>
    ) async throws -> JoinReport {
        let service = Secagg_V1_Aggregation.Client(wrapping: grpc)
        let index = options.index

        // 1. The offer, read with a limit this client's policy sets (it has no configuration yet).
        var offerOptions = CallOptions.defaults
        offerOptions.timeout = options.connectTimeout
        offerOptions.waitForReady = true
        // grpc-swift-nio-transport 2.9 bounds a client's *inbound* messages with maxRequestMessageBytes and ignores
        // maxResponseMessageBytes; both are set so that the bound holds whichever way a version reads them.
        offerOptions.maxRequestMessageBytes = options.policy.maximumOfferByteCount
        offerOptions.maxResponseMessageBytes = options.policy.maximumOfferByteCount
        let offer = try SessionOffer(
            message: try await service.getSession(Secagg_V1_SessionRequest(), options: offerOptions))
        let configuration = offer.configuration

        // 2. The policy, before anything is sent.
        try options.policy.check(configuration, valueCount: valueCount)
        if let expected = options.expectedClip, expected != offer.clip {
            throw NodeError.policyRefused(
                "the server quantizes with clip ±\(offer.clip) but this client was started with --clip \(expected)")
        }
        let elements = try input(offer)
        var client: SecAggClient
        do {
            client = try SecAggClient(
                configuration: configuration, index: index, input: [elements], signingKey: options.signingKey)
        } catch {
            throw NodeError.protocolFailure(error)
        }
        let joining =
            "client \(index.rawValue): joining a session of \(configuration.clientCount) clients, t = "
            + "\(configuration.threshold), \(configuration.graph), \(configuration.securityModel), "
            + "\(valueCount) values over \(configuration.inputs[0].modulus), clip ±\(offer.clip)"
        logger.info("\(joining)")

        // 3. The stream: each server message starts a round; the reply goes back on the same stream.
        let serverLimit = configuration.maximumServerMessageByteCount
        let ownLimit = configuration.rounds.map { configuration.maximumClientMessageByteCount(in: $0) }.max() ?? 0
        var joinOptions = CallOptions.defaults
        joinOptions.maxRequestMessageBytes = max(serverLimit, ownLimit) + ClientFrameOverhead.byteCount
        joinOptions.maxResponseMessageBytes = serverLimit + ClientFrameOverhead.byteCount
        let (outgoing, outgoingSink) = AsyncStream.makeStream(of: Secagg_V1_ClientFrame.self)
        let first = try client.startEncoded()
        var start = Secagg_V1_ClientFrame()
        start.index = index.rawValue
        start.message = Data(first)
        outgoingSink.yield(start)

        let started = client
        let (outcome, metrics) = try await service.join(
            options: joinOptions,
            requestProducer: { writer in
                for await frame in outgoing { try await writer.write(frame) }
            },
            onResponse: { response in
                defer { outgoingSink.finish() }
                var client = started
                var lastAnswered: ProtocolRound? = .advertiseKeys
                let clock = ContinuousClock()
                var roundStart = clock.now
                for try await frame in response.messages {
                    let bytes = [UInt8](frame.message)
                    guard bytes.count <= serverLimit else {
                        throw NodeError.transport(
                            "a \(bytes.count)-byte server message exceeds this session's limit of \(serverLimit) bytes")
                    }
                    if let pause = options.pauseAfter, pause == lastAnswered {
                        logger.notice("client \(index.rawValue): paused after \(pause) (test hook)")
                        while true { try? await Task.sleep(for: .seconds(3_600)) }
                    }
                    let answering = replyRound(for: client.state)
                    let reply: [UInt8]?
                    do throws(SecAggError) {
                        reply = try client.handle(encoded: bytes)
                    } catch  where error.isRejectionOnly {
                        logger.warning("client \(index.rawValue): rejected a server message: \(error)")
                        continue
                    } catch {
                        throw NodeError.sessionAborted(explain(error))
                    }
                    if let reply, let round = answering {
                        let now = clock.now
                        let line =
                            "client \(index.rawValue): round \(round): received \(formatBytes(bytes.count)), sent "
                            + "\(formatBytes(reply.count)), \(formatSeconds((now - roundStart).seconds)) since the "
                            + "previous message"
                        logger.info("\(line)")
                        roundStart = now
                        var frame = Secagg_V1_ClientFrame()
                        switch hooks.reply?(round, reply) ?? .send(reply) {
                        case let .send(bytes): frame.message = Data(bytes)
                        case .disconnect: throw CancellationError()
                        }
                        outgoingSink.yield(frame)
                        lastAnswered = round
                    }
                    switch client.state {
                    case .completed, .aborted: return (client.state, client.metrics)
                    default: continue
                    }
                }
                return (client.state, client.metrics)
            })
        switch outcome {
        case let .completed(included):
            let verdict = included ? "in the aggregate" : "not in the aggregate"
            logger.info("client \(index.rawValue): session completed; this client's input is \(verdict)")
            return JoinReport(offer: offer, inputIncluded: included, metrics: metrics)
        case let .aborted(error):
            throw NodeError.sessionAborted(Self.explain(error))
        default:
            throw NodeError.sessionAborted("the server ended the stream in \(outcome)")
        }
    }

    /// The round a client in `state` answers with its next reply.
    static func replyRound(for state: ClientState) -> ProtocolRound? {
        switch state {
        case .advertiseKeys: .advertiseKeys
        case .seedReveal: .seedReveal
        case .shareKeys: .shareKeys
        case .maskedInputCollection, .inputRequired: .maskedInputCollection
        case .consistencyCheck: .consistencyCheck
        case .unmasking: .unmasking
        case .awaitingOutcome, .completed, .aborted: nil
        }
    }

    static func explain(_ error: SecAggError) -> String {
        if case let .serverAborted(code) = error, code == .clientExcluded {
            return "the server removed this client from the session (it missed a deadline or its connection failed)"
        }
        return error.description
    }

    static func transportSecurity(_ security: ClientSecurity) throws(NodeError)
        -> HTTP2ClientTransport.Posix.TransportSecurity
    {
        switch security {
        case .plaintext:
            return .plaintext
        case let .tls(trustRoots, chain, key, _):
            let configure: (inout HTTP2ClientTransport.Posix.TransportSecurity.TLS) -> Void = { config in
                if let trustRoots { config.trustRoots = .certificates([.file(path: trustRoots, format: .pem)]) }
                config.serverCertificateVerification = .fullVerification
            }
            switch (chain, key) {
            case let (chain?, key?):
                return .mTLS(
                    certificateChain: [.file(path: chain, format: .pem)], privateKey: .file(path: key, format: .pem),
                    configure: configure)
            case (nil, nil):
                return .tls(configure: configure)
            default:
                throw .invalidArgument("a client certificate needs both --tls-cert and --tls-key")
            }
        }
    }
}
