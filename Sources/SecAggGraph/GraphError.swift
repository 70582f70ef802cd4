public import SecAggCrypto

/// Errors thrown by the graph module. Payloads carry only public parameters.
public enum GraphError: Error, Hashable, Sendable {
    /// The client count is outside `minimum...maximum`.
    case invalidClientCount(count: Int, minimum: Int, maximum: Int)
    /// The degree is not an even number in 2...n−2 (or ≥ n−1, meaning the complete graph).
    case invalidDegree(degree: Int, clientCount: Int)
    /// The graph seed has the wrong length.
    case invalidSeedByteCount(actual: Int, expected: Int)
    /// A numeric parameter (fraction, security parameter, vector length) is out of range.
    case invalidParameter(name: String, value: Double, allowed: String)
    /// The primitives layer failed (libsodium could not be initialised).
    case cryptoFailure(underlying: SecAggCryptoError)
    /// No (degree, threshold) meets the requested privacy and correctness bounds; `reason` says why.
    case noFeasibleParameters(reason: String)
}

extension GraphError: CustomStringConvertible {
    /// A one-line description.
    public var description: String {
        switch self {
        case let .invalidClientCount(count, minimum, maximum):
            "client count \(count) is outside \(minimum)...\(maximum)"
        case let .invalidDegree(degree, clientCount):
            "degree \(degree) is invalid for \(clientCount) clients (need an even degree ≥ 2, or ≥ n − 1 for complete)"
        case let .invalidSeedByteCount(actual, expected):
            "graph seed of \(actual) bytes; expected \(expected)"
        case let .invalidParameter(name, value, allowed):
            "\(name) = \(value) is invalid (allowed: \(allowed))"
        case let .cryptoFailure(underlying):
            "graph derivation failed: \(underlying)"
        case let .noFeasibleParameters(reason):
            "no feasible SecAgg+ parameters: \(reason)"
        }
    }
}
