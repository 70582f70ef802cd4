public import SecAggGraph
extension HararyGraph {
    public enum Evaluation: Sendable { case table, pointwise }
    init(clientCount: Int, degree: Int, seed: [UInt8], evaluation: Evaluation) throws(GraphError) {
        try self.init(clientCount: clientCount, degree: degree, seed: seed)
    }
}
