import SecAggCrypto

/// Known-answer files for the protocol (`Vectors/protocol/`) and the communication graph
/// (`Vectors/graph/`): whole-session transcripts, golden wire encodings and Harary permutations,
/// regenerated deterministically by `secagg vectors generate`.
public enum ProtocolVectors {
    /// Suites checking the files.
    public static var suites: [any VectorSuite] {
        [
            TranscriptVectors.Suite(), WireVectors.Suite(), HararyPermutationVectors.Suite(), RingPrpVectors.Suite(),
            ParameterFinderVectors.Suite(), ConfigurationVectors.Suite(),
        ]
    }

    /// Generators writing the files.
    public static var generators: [any VectorGenerator] {
        TranscriptVectors.scenarios.map { TranscriptVectors.Generator(scenario: $0) }
            + [
                WireVectors.Generator(), WireCheckVectors.Generator(), ConfigurationVectors.Generator(),
                HararyPermutationVectors.Generator(), RingPrpVectors.Generator(),
                ParameterFinderVectors.Generator(relativePath: "graph/parameter_finder.json", table: false),
                ParameterFinderVectors.Generator(relativePath: "graph/parameter_table.json", table: true),
            ]
    }

    /// The test generator (SPEC.md §2.6) seeded with SHA-256 of `label`.
    static func generator(label: String) -> DeterministicRandomGenerator {
        // A 32-byte seed cannot be rejected; the fallback only keeps this non-trapping.
        (try? DeterministicRandomGenerator(seed: seed(label: label)))
            ?? DeterministicRandomGenerator(testLabel: label)
    }

    /// SHA-256 of the label's UTF-8 bytes.
    static func seed(label: String) -> [UInt8] {
        Hkdf.sha256(Array(label.utf8))
    }
}
