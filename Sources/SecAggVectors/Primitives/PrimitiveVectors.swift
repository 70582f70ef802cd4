import SecAggCrypto

/// Our own known-answer files for the primitives (`Vectors/primitives/`), regenerated deterministically
/// by `secagg vectors generate` from fixed seeds.
public enum PrimitiveVectors {
    /// Suites checking the files.
    public static var suites: [any VectorSuite] {
        [
            MaskPrgVectors.Suite(), KeyDerivationVectors.Suite(), ShamirVectors.Suite(), ShareAeadVectors.Suite(),
            DeterministicRngVectors.Suite(), MaskLimitVectors.Suite(), Ed25519StrictVectors.Suite(),
            ShamirRejectionVectors.Suite(), MerkleVectors.Suite(),
        ]
    }

    /// Generators writing the files.
    public static var generators: [any VectorGenerator] {
        [
            MaskPrgVectors.Generator(), KeyDerivationVectors.Generator(), ShamirVectors.Generator(),
            ShareAeadVectors.Generator(), DeterministicRngVectors.Generator(), MaskLimitVectors.Generator(),
            Ed25519StrictVectors.Generator(), ShamirRejectionVectors.Generator(), MerkleVectors.Generator(),
        ]
    }

    /// The generator of every case input: the test DRBG (SPEC.md §2.6) seeded with SHA-256 of a label.
    static func inputGenerator(_ label: String) -> DeterministicRandomGenerator {
        // A 32-byte seed cannot be rejected; fall back to a label seed only to stay non-trapping.
        (try? DeterministicRandomGenerator(seed: Hkdf.sha256(Array(label.utf8))))
            ?? DeterministicRandomGenerator(testLabel: label)
    }

    /// The generator field of every primitives file.
    static func generatorNote(_ label: String) -> String {
        "secagg vectors generate (Sources/SecAggVectors/Primitives); inputs drawn from DeterministicRandomGenerator "
            + "with seed SHA-256(\"\(label)\") (SPEC.md §2.6), outputs computed by SecAggCrypto"
    }
}
