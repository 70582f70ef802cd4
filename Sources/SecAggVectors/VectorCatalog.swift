/// Every suite and generator of the package. Each area keeps its own lists (``PrimitiveVectors``, …)
/// and adds them here with one line, so `secagg vectors verify` and `generate` see all of them.
public enum VectorCatalog {
    /// All suites, tried in order for each file.
    public static var suites: [any VectorSuite] {
        PrimitiveVectors.suites
            + WycheproofVectors.suites
            + RfcVectors.suites
            + QuantizationVectors.suites
            + ProtocolVectors.suites
            + PrivacyVectors.suites
    }

    /// All generators of our own files.
    public static var generators: [any VectorGenerator] {
        PrimitiveVectors.generators
            + QuantizationVectors.generators
            + ProtocolVectors.generators
            + PrivacyVectors.generators
    }
}
