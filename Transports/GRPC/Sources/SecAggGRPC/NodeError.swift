public import SecureAggregation

/// Errors of the gRPC transport and of `secagg-node`. Every case is one line for an operator; none carries key
/// material, shares or inputs.
public enum NodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An argument or option is invalid (the message names it).
    case invalidArgument(String)
    /// A file could not be read, parsed or written.
    case file(path: String, reason: String)
    /// The server's offer breaks this client's local policy: the client refused before sending anything.
    case policyRefused(String)
    /// The server's offer is malformed (undecodable configuration, a quantization this client cannot reproduce).
    case invalidOffer(String)
    /// The engine refused or aborted (a configuration that fails its checks, a protocol violation, an abort).
    case protocolFailure(SecAggError)
    /// The connection, TLS handshake or RPC failed.
    case transport(String)
    /// The session ended without completing (the server aborted it, or removed this client).
    case sessionAborted(String)
    /// The session completed, but this client's input is not in the aggregate.
    case inputNotIncluded

    /// One line.
    public var description: String {
        switch self {
        case let .invalidArgument(message): message
        case let .file(path, reason): "\(path): \(reason)"
        case let .policyRefused(reason): "refusing the session: \(reason)"
        case let .invalidOffer(reason): "invalid session offer: \(reason)"
        case let .protocolFailure(error): "protocol: \(error)"
        case let .transport(message): "transport: \(message)"
        case let .sessionAborted(reason): "the session did not complete: \(reason)"
        case .inputNotIncluded: "the session completed without this client's input (it missed a deadline)"
        }
    }
}
