import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import SecureAggregation
import Synchronization
import X509

/// How the server secures its connections.
public enum ServerSecurity: Sendable, Hashable {
    /// No encryption or authentication: only when asked for explicitly (`--plaintext`).
    case plaintext
    /// TLS with this certificate chain and key (PEM files). With `clientCertificateAuthority`, clients must present
    /// a certificate signed by it (mutual TLS); ``ClientAuthentication/certificateCommonName(prefix:)`` then ties
    /// each stream to the index its certificate names.
    case tls(certificateChain: String, privateKey: String, clientCertificateAuthority: String?)
}

/// Everything a server needs to run one session.
public struct AggregationServerOptions: Sendable {
    /// The session it offers.
    public var offer: SessionOffer
    /// The address to listen on.
    public var host: String
    /// The port (0: any free port, see the `onListening` callback).
    public var port: Int
    /// TLS or plaintext.
    public var security: ServerSecurity
    /// How streams are tied to client indices.
    public var authentication: ClientAuthentication = .claimedIndex
    /// Streams open at once, joined or not (default 2n + 16): more are refused with `resourceExhausted`.
    public var maximumStreams: Int?
    /// Threads of the unmasking (default: every core).
    public var unmaskingConcurrency: Int?

    /// Options for `offer`, listening on `host:port`.
    public init(offer: SessionOffer, host: String, port: Int, security: ServerSecurity) {
        self.offer = offer
        self.host = host
        self.port = port
        self.security = security
    }
}

/// The aggregation server: one session per run, over gRPC (HTTP/2, SwiftNIO).
///
/// **One bidirectional stream per client per session** (`Join`), not unary calls per round. A stream is the
/// natural carrier of the protocol's identity and liveness: the engine trusts the `ClientID` it is given with each
/// message (SPEC.md §11.5), and a stream is bound to one index once, when the engine accepts its round-0 message
/// (or by the TLS client certificate), so no later message can claim another index and no per-round token is
/// needed. A client that dies closes its stream, which the server sees at once and maps to
/// ``SecAggServer/abortClient(_:)``, so a round whose other clients all answered closes early instead of waiting
/// for its deadline; unary calls would only show a dead client by its silence. The server pushes each round's
/// request the moment the previous round closes, with no polling, and every round costs one message each way on
/// a connection that is already open (unary calls would need a long poll per round to learn the next request).
/// What a stream costs — a connection held for the session — is what the protocol needs anyway: a client must
/// stay reachable until the unmasking round. (A session is minutes at most; a client that must hang up between
/// rounds is not something this protocol supports: its shares are needed until the end.)
///
/// The server drives one ``SecAggServer`` in one task (the session loop): each round closes as soon as every
/// awaited client answered (``SecAggServer/isRoundComplete``) or at its deadline, and the unmasking runs on
/// threads outside Swift's cooperative pool (``SecAggServer/advanceEncodedAsync()``). Memory per stream is
/// bounded: the transport refuses a message longer than the largest client message of the configuration before
/// reading it (``SessionConfiguration/maximumClientMessageByteCount(in:)``, over every round), and the loop
/// checks each message against its round's limit; each stream has at most one message waiting for the loop.
public enum AggregationServer {
    /// Runs one session: listens, calls `onListening` with the bound port, drives the session to its end, ends
    /// every stream and stops listening. Throws only when the session could not start (configuration, TLS,
    /// address); a session that aborted returns a report with ``SessionReport/abortReason``.
    public static func run(
        _ options: AggregationServerOptions, logger: Logger, onListening: @Sendable (Int) -> Void = { _ in }
    ) async throws(NodeError) -> SessionReport {
        let configuration = options.offer.configuration
        var secagg: SecAggServer
        do {
            secagg = try SecAggServer(configuration: configuration)
        } catch {
            throw .protocolFailure(error)
        }
        if let threads = options.unmaskingConcurrency { secagg.unmaskingConcurrency = max(1, threads) }
        _ = try options.offer.plan()

        let (events, sink) = AsyncStream.makeStream(of: SessionEvent.self)
        let service = AggregationService(
            offer: options.offer.message, sink: sink, authentication: options.authentication)
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: options.host, port: options.port),
            transportSecurity: try transportSecurity(options.security),
            config: .defaults { config in
                // The largest client message of any round, and the protobuf fields around it.
                let largest =
                    configuration.rounds.map { configuration.maximumClientMessageByteCount(in: $0) }.max() ?? 0
                config.rpc.maxRequestPayloadSize = largest + ClientFrameOverhead.byteCount
                config.http2.maxConcurrentStreams = 4
                // One masked input in flight per connection without a window update per 64 KiB.
                config.http2.targetWindowSize = min(max(largest, 1 << 16), 1 << 23)
                config.connection.keepalive.time = .seconds(30)
                config.connection.keepalive.timeout = .seconds(10)
            })
        let server = GRPCServer(transport: transport, services: [service])
        var loop = SessionLoop(
            server: secagg, sink: sink, roundTimeout: options.offer.roundTimeout,
            authentication: options.authentication,
            maximumStreams: options.maximumStreams ?? (2 * configuration.clientCount + 16), logger: logger)

        do {
            return try await serve(
                server: server, transport: transport, loop: &loop, events: events, options: options, logger: logger,
                onListening: onListening)
        } catch let error as NodeError {
            throw error
        } catch {
            throw .transport("\(error)")
        }
    }

    private static func serve(
        server: GRPCServer<HTTP2ServerTransport.Posix>, transport: HTTP2ServerTransport.Posix, loop: inout SessionLoop,
        events: AsyncStream<SessionEvent>, options: AggregationServerOptions, logger: Logger,
        onListening: @Sendable (Int) -> Void
    ) async throws -> SessionReport {
        let configuration = options.offer.configuration
        // Not a child task: a peer that holds a stream open (half a message, never closing) keeps the server's RPC
        // handling alive after the session; the run must not wait for it (see the end).
        let serving = Task { try await server.serve() }
        let port: Int
        do {
            let address = try await transport.listeningAddress
            guard let ipv4 = address.ipv4 else { throw NodeError.transport("no IPv4 listening address") }
            port = ipv4.port
        } catch {
            serving.cancel()
            throw NodeError.transport("cannot listen on \(options.host):\(options.port): \(error)")
        }
        let listening =
            "listening on \(options.host):\(port) (\(options.security.summary)); session: \(configuration.clientCount) "
            + "clients, t = \(configuration.threshold), \(configuration.graph), \(configuration.securityModel), "
            + "\(configuration.inputs.first.map { "\($0.length) values over \($0.modulus)" } ?? ""), "
            + "round timeout \(formatSeconds(options.offer.roundTimeout.seconds))"
        logger.info("\(listening)")
        onListening(port)
        let report = await loop.run(events: events)
        // Every stream has been handed its last message and ended. Stop accepting, give the writers a grace period
        // to flush, then cancel whatever is left (connections of peers that never finish a message or never speak
        // HTTP/2) instead of waiting for them.
        server.beginGracefulShutdown()
        if await !finishes(serving, within: .seconds(3)) {
            logger.notice("connections still open 3 s after the session ended: closing them")
            serving.cancel()
            _ = await finishes(serving, within: .seconds(2))
        }
        return report
    }

    static func transportSecurity(_ security: ServerSecurity) throws(NodeError)
        -> HTTP2ServerTransport.Posix.TransportSecurity
    {
        switch security {
        case .plaintext:
            return .plaintext
        case let .tls(chain, key, clientCA):
            let certificates: [TLSConfig.CertificateSource] = [.file(path: chain, format: .pem)]
            let privateKey: TLSConfig.PrivateKeySource = .file(path: key, format: .pem)
            guard let clientCA else { return .tls(certificateChain: certificates, privateKey: privateKey) }
            return .mTLS(certificateChain: certificates, privateKey: privateKey) { config in
                config.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
                config.clientCertificateVerification = .noHostnameVerification
            }
        }
    }
}

extension ServerSecurity {
    var summary: String {
        switch self {
        case .plaintext: "plaintext"
        case .tls(_, _, nil): "TLS"
        case .tls(_, _, .some): "TLS with client certificates"
        }
    }
}

/// The bytes a `ClientFrame` adds around its SPEC message: field 1 (tag and up to 5 bytes of varint index) and
/// field 2's tag and length (up to 5 bytes).
enum ClientFrameOverhead {
    static let byteCount = 16
}

/// The generated service's handlers: `GetSession` returns the offer; `Join` posts every frame to the session loop
/// and writes what the loop sends back.
final class AggregationService: Secagg_V1_Aggregation.SimpleServiceProtocol {
    private let offer: Secagg_V1_SessionOffer
    private let sink: AsyncStream<SessionEvent>.Continuation
    private let authentication: ClientAuthentication
    private let nextStream = Atomic<Int>(0)

    init(
        offer: Secagg_V1_SessionOffer, sink: AsyncStream<SessionEvent>.Continuation,
        authentication: ClientAuthentication
    ) {
        self.offer = offer
        self.sink = sink
        self.authentication = authentication
    }

    func getSession(request: Secagg_V1_SessionRequest, context: ServerContext) async throws -> Secagg_V1_SessionOffer {
        offer
    }

    func join(
        request: RPCAsyncSequence<Secagg_V1_ClientFrame, any Error>, response: RPCWriter<Secagg_V1_ServerFrame>,
        context: ServerContext
    ) async throws {
        let id = nextStream.add(1, ordering: .relaxed).newValue
        let (outbound, outboundSink) = AsyncStream.makeStream(of: Outbound.self)
        let certified = certifiedIndex(context)
        let opened = await submit {
            .opened(id, peer: context.remotePeer, certifiedIndex: certified, outbound: outboundSink, reply: $0)
        }
        if case let .refused(error) = opened { throw error }

        // The reader posts each frame and waits for its verdict before reading the next (one message per stream
        // waits for the loop, and HTTP/2 flow control holds the rest at the peer). It is not awaited on the way
        // out: a silent peer's read ends when the RPC does.
        let sink = self.sink
        let reader = Task {
            do {
                for try await frame in request {
                    let verdict = await Self.submit(to: sink) {
                        .frame(id, index: frame.index, bytes: [UInt8](frame.message), reply: $0)
                    }
                    if case .refused = verdict { return }
                }
                sink.yield(.closed(id, reason: "the client ended its stream"))
            } catch {
                sink.yield(.closed(id, reason: Self.describe(error)))
            }
        }
        defer { reader.cancel() }
        do {
            for await item in outbound {
                switch item {
                case let .message(bytes):
                    var frame = Secagg_V1_ServerFrame()
                    frame.message = Data(bytes)
                    try await response.write(frame)
                case let .end(error):
                    if let error { throw error }
                    return
                }
            }
        } catch let error as RPCError {
            throw error
        } catch {
            sink.yield(.closed(id, reason: Self.describe(error)))
            throw error
        }
    }

    private func submit(_ event: (CheckedContinuation<Verdict, Never>) -> SessionEvent) async -> Verdict {
        await Self.submit(to: sink, event)
    }

    private static func submit(
        to sink: AsyncStream<SessionEvent>.Continuation, _ event: (CheckedContinuation<Verdict, Never>) -> SessionEvent
    ) async -> Verdict {
        await withCheckedContinuation { continuation in
            if case .terminated = sink.yield(event(continuation)) {
                continuation.resume(returning: .refused(RPCError(code: .unavailable, message: "the session is over")))
            }
        }
    }

    /// The index the client certificate names, when the server ties streams to certificates.
    private func certifiedIndex(_ context: ServerContext) -> UInt32? {
        guard case let .certificateCommonName(prefix) = authentication,
            let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
            let certificate = posix.peerCertificate
        else { return nil }
        for name in certificate.subject {
            for attribute in name {
                let text = String(describing: attribute)
                guard text.hasPrefix("CN=\(prefix)") else { continue }
                return UInt32(text.dropFirst(3 + prefix.count))
            }
        }
        return nil
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? RPCError {
            return "\(error.code): \(error.message)" + (error.cause.map { " (\(describe($0)))" } ?? "")
        }
        return "\(error)"
    }
}
