/// A client's neighbourhood structure for one session. Indices are 1-based client indices 1...n.
///
/// Client `i` exchanges keys, secret shares and pairwise masks only with its neighbours. Queries with an
/// index outside 1...n return an empty neighbourhood (and `false`), never trap.
public protocol CommunicationGraph: Sendable {
    /// The number of clients n.
    var clientCount: Int { get }
    /// Neighbours of `client` (excluding itself), ascending. O(k) time and memory per query.
    func neighbours(of client: UInt32) -> [UInt32]
    /// True when `a` and `b` are distinct valid clients joined by an edge (symmetric).
    func areNeighbours(_ a: UInt32, _ b: UInt32) -> Bool
    /// The degree k of every vertex (n − 1 for the complete graph).
    var degree: Int { get }
}

extension CommunicationGraph {
    /// True when `client` is in 1...n.
    public func isValidClient(_ client: UInt32) -> Bool {
        client >= 1 && Int(client) <= clientCount
    }
}

/// The complete graph K_n: every client is a neighbour of every other (the original SecAgg).
public struct CompleteGraph: CommunicationGraph, Hashable {
    /// The number of clients n (negative requests are stored as 0).
    public let clientCount: Int

    /// The complete graph on `clientCount` clients.
    public init(clientCount: Int) {
        self.clientCount = max(0, clientCount)
    }

    /// n − 1 (0 for an empty graph).
    public var degree: Int { max(0, clientCount - 1) }

    /// Every other client, ascending (O(n): the complete graph has degree n − 1).
    public func neighbours(of client: UInt32) -> [UInt32] {
        guard isValidClient(client) else { return [] }
        var result: [UInt32] = []
        result.reserveCapacity(degree)
        for other in 1...UInt32(clientCount) where other != client {
            result.append(other)
        }
        return result
    }

    /// True for any two distinct valid clients.
    public func areNeighbours(_ a: UInt32, _ b: UInt32) -> Bool {
        a != b && isValidClient(a) && isValidClient(b)
    }
}
