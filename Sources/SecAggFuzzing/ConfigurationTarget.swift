import SecureAggregation

/// `config`: `SessionConfiguration(encoded:)` on arbitrary bytes (SPEC.md §11.1). Decoding either throws
/// its typed error or yields a configuration; a decoded configuration re-encodes to exactly the input
/// (the encoding is canonical) and decodes again to an equal value.
///
/// Deliberately a thin call: the configuration format will change, and this target should follow it
/// without edits.
enum ConfigurationTarget {
    static let target = FuzzTarget(
        name: "config",
        summary: "SessionConfiguration(encoded:): typed error, or a canonical encoding that round-trips",
        run: run)

    static func run(_ bytes: [UInt8]) {
        let configuration: SessionConfiguration
        do {
            configuration = try SessionConfiguration(encoded: bytes)
        } catch {
            _ = error.description  // rejections must be printable without trapping
            return
        }
        let encoded = configuration.encoded
        guard encoded == bytes else {
            violation(
                "config",
                "decoded input re-encodes differently: input \(bytes.hexString), re-encoded \(encoded.hexString)")
        }
        let again: SessionConfiguration
        do {
            again = try SessionConfiguration(encoded: encoded)
        } catch {
            violation("config", "the re-encoding of a decoded configuration is rejected: \(error)")
        }
        guard again == configuration, again.encoded == encoded else {
            violation("config", "decoding the re-encoding gives a different configuration")
        }
        // Derived values of an accepted configuration must be computable without trapping.
        _ = configuration.digest
        _ = configuration.maskedInputByteCount
        _ = configuration.degree
    }
}
