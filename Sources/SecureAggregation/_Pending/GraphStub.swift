// TEMPORARY: replaced by SecAggGraph at merge time.
public protocol CommunicationGraph: Sendable {
    var clientCount: Int { get }
    func neighbours(of client: UInt32) -> [UInt32]
    func areNeighbours(_ a: UInt32, _ b: UInt32) -> Bool
    var degree: Int { get }
}
public struct CompleteGraph: CommunicationGraph {
    public let clientCount: Int
    public init(clientCount: Int) { self.clientCount = clientCount }
    public func neighbours(of client: UInt32) -> [UInt32] { (1...UInt32(clientCount)).filter { $0 != client } }
    public func areNeighbours(_ a: UInt32, _ b: UInt32) -> Bool {
        a != b && a >= 1 && b >= 1 && a <= clientCount && b <= clientCount
    }
    public var degree: Int { clientCount - 1 }
}
public struct HararyGraph: CommunicationGraph {
    public let clientCount: Int
    public let degree: Int
    public init(clientCount: Int, degree: Int, seed: [UInt8]) throws {
        self.clientCount = clientCount; self.degree = degree
    }
    public func neighbours(of client: UInt32) -> [UInt32] { [] }
    public func areNeighbours(_ a: UInt32, _ b: UInt32) -> Bool { false }
}
