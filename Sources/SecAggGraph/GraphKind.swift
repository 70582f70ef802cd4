/// Which communication graph a session uses; part of the session configuration.
///
/// JSON form (SPEC.md §10.1): `{"type": "complete"}` or `{"type": "harary", "degree": k}`.
public enum GraphKind: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The complete graph (original SecAgg).
    case complete
    /// The random Harary graph H(n, k) with even degree k.
    case harary(degree: Int)

    private enum CodingKeys: String, CodingKey {
        case type
        case degree
    }

    /// Decodes `{"type": "complete"}` or `{"type": "harary", "degree": k}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "complete":
            self = .complete
        case "harary":
            self = .harary(degree: try container.decode(Int.self, forKey: .degree))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown graph type \"\(type)\"")
        }
    }

    /// Encodes as `{"type": …}` plus `degree` for Harary graphs.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .complete:
            try container.encode("complete", forKey: .type)
        case let .harary(degree):
            try container.encode("harary", forKey: .type)
            try container.encode(degree, forKey: .degree)
        }
    }

    /// "complete" or "harary(k=…)".
    public var description: String {
        switch self {
        case .complete: "complete"
        case let .harary(degree): "harary(k=\(degree))"
        }
    }

    /// The graph for a session of `clientCount` clients; `seed` (32 bytes) is used only by Harary graphs.
    public func makeGraph(clientCount: Int, seed: [UInt8]) throws(GraphError) -> SessionGraph {
        try SessionGraph(kind: self, clientCount: clientCount, seed: seed)
    }
}

/// A concrete session graph (static dispatch over the two kinds).
public enum SessionGraph: CommunicationGraph, Hashable {
    /// The complete graph.
    case complete(CompleteGraph)
    /// A random Harary graph.
    case harary(HararyGraph)

    /// Builds the graph of `kind` for `clientCount` clients (1...2^24); `seed` must be 32 bytes for Harary.
    public init(kind: GraphKind, clientCount: Int, seed: [UInt8]) throws(GraphError) {
        switch kind {
        case .complete:
            guard (1...HararyGraph.maximumClientCount).contains(clientCount) else {
                throw .invalidClientCount(count: clientCount, minimum: 1, maximum: HararyGraph.maximumClientCount)
            }
            self = .complete(CompleteGraph(clientCount: clientCount))
        case let .harary(degree):
            self = .harary(try HararyGraph(clientCount: clientCount, degree: degree, seed: seed))
        }
    }

    /// The number of clients n.
    public var clientCount: Int {
        switch self {
        case let .complete(graph): graph.clientCount
        case let .harary(graph): graph.clientCount
        }
    }

    /// The degree k.
    public var degree: Int {
        switch self {
        case let .complete(graph): graph.degree
        case let .harary(graph): graph.degree
        }
    }

    /// Neighbours of `client`, ascending.
    public func neighbours(of client: UInt32) -> [UInt32] {
        switch self {
        case let .complete(graph): graph.neighbours(of: client)
        case let .harary(graph): graph.neighbours(of: client)
        }
    }

    /// True when `a` and `b` are neighbours.
    public func areNeighbours(_ a: UInt32, _ b: UInt32) -> Bool {
        switch self {
        case let .complete(graph): graph.areNeighbours(a, b)
        case let .harary(graph): graph.areNeighbours(a, b)
        }
    }
}
