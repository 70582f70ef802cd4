public import SecAggCrypto

extension SessionConfiguration {
    /// A fresh 32-byte session nonce from the system CSPRNG. Public, like the rest of the configuration.
    public static func randomNonce() -> [UInt8] {
        var rng = SystemRandomGenerator()
        return randomNonce(using: &rng)
    }

    /// A fresh 32-byte session nonce from `rng`.
    public static func randomNonce(using rng: inout some RandomByteGenerator) -> [UInt8] {
        rng.bytes(count: 32)
    }
}
