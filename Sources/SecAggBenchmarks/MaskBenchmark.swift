import SecAggCrypto

/// Throughput of the mask PRG against raw libsodium keystream generation over the same byte count.
public struct MaskBenchmarkResult: Sendable, Hashable {
    /// Mask elements per run.
    public var elementCount: Int
    /// The ring Z_{2^bitWidth}.
    public var bitWidth: Int
    /// Keystream bytes per run: elementCount · word size.
    public var keystreamByteCount: Int
    /// Best time of `MaskPrg.add` in seconds.
    public var maskSeconds: Double
    /// Best time of `crypto_stream_chacha20_ietf` over the same byte count, in seconds.
    public var keystreamSeconds: Double

    /// Mask throughput in GB/s of keystream bytes (10^9 bytes).
    public var maskGigabytesPerSecond: Double { Double(keystreamByteCount) / maskSeconds / 1e9 }
    /// Raw keystream throughput in GB/s.
    public var keystreamGigabytesPerSecond: Double { Double(keystreamByteCount) / keystreamSeconds / 1e9 }
    /// mask / keystream throughput (1 = as fast as raw libsodium).
    public var ratio: Double { keystreamSeconds / maskSeconds }

    /// Human-readable lines.
    public var textReport: String {
        """
        mask PRG (Z_2^\(bitWidth), \(elementCount) elements, \(keystreamByteCount) keystream bytes)
        mask:      \(Self.format(maskGigabytesPerSecond)) GB/s (\(Self.format(maskSeconds * 1e3)) ms)
        keystream: \(Self.format(keystreamGigabytesPerSecond)) GB/s (\(Self.format(keystreamSeconds * 1e3)) ms)
        ratio:     \(Self.format(ratio))
        """
    }

    /// One JSON object with the keys `mask_gbps`, `keystream_gbps`, `ratio` (plus the parameters).
    public var jsonReport: String {
        "{\"bits\": \(bitWidth), \"length\": \(elementCount), \"keystream_bytes\": \(keystreamByteCount), "
            + "\"mask_gbps\": \(Self.format(maskGigabytesPerSecond)), "
            + "\"keystream_gbps\": \(Self.format(keystreamGigabytesPerSecond)), \"ratio\": \(Self.format(ratio))}"
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let scaled = (value * 1000).rounded() / 1000
        return "\(scaled)"
    }
}

/// Errors of the benchmark's parameters.
public enum MaskBenchmarkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The element count is outside 1 ... ``MaskBenchmark/maximumElementCount``.
    case invalidLength(length: Int, maximum: Int)
    /// The bit width is outside 1 ... 64.
    case invalidBitWidth(bits: Int)
    /// The repetition count is outside 1 ... 1000.
    case invalidRepetitions(count: Int)

    /// One line.
    public var description: String {
        switch self {
        case let .invalidLength(length, maximum): "length \(length) is outside 1...\(maximum)"
        case let .invalidBitWidth(bits): "bit width \(bits) is outside 1...64"
        case let .invalidRepetitions(count): "repetitions \(count) is outside 1...1000"
        }
    }
}

/// `secagg bench mask`: best-of-N timing of ``MaskPrg/add(into:modulus:)`` into a `[UInt32]` (b ≤ 32) or
/// `[UInt64]` buffer, and of raw `crypto_stream_chacha20_ietf` over the same number of keystream bytes.
public enum MaskBenchmark {
    /// The largest element count (bounds the buffer to 2 GiB).
    public static let maximumElementCount = 1 << 28

    /// Runs both measurements `repetitions` times each and keeps the best.
    public static func run(elementCount: Int, bitWidth: Int, repetitions: Int = 7) throws -> MaskBenchmarkResult {
        guard (1...maximumElementCount).contains(elementCount) else {
            throw MaskBenchmarkError.invalidLength(length: elementCount, maximum: maximumElementCount)
        }
        guard (1...64).contains(bitWidth) else { throw MaskBenchmarkError.invalidBitWidth(bits: bitWidth) }
        guard (1...1000).contains(repetitions) else { throw MaskBenchmarkError.invalidRepetitions(count: repetitions) }
        let modulus = RingModulus.powerOfTwo(bitWidth: bitWidth)
        let byteCount = elementCount * modulus.wordByteCount
        var rng = SystemRandomGenerator()
        let prg = try MaskPrg(seed: SecretBytes(randomByteCount: MaskPrg.seedByteCount, using: &rng))
        let maskSeconds: Double
        if bitWidth <= 32 {
            var buffer = [UInt32](repeating: 0, count: elementCount)
            maskSeconds = try bestSeconds(repetitions) { try prg.add(into: &buffer, modulus: modulus) }
        } else {
            var buffer = [UInt64](repeating: 0, count: elementCount)
            maskSeconds = try bestSeconds(repetitions) { try prg.add(into: &buffer, modulus: modulus) }
        }
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        let keystreamSeconds = try bestSeconds(repetitions) { try MaskPrg.rawKeystreamBenchmark(into: raw) }
        return MaskBenchmarkResult(
            elementCount: elementCount, bitWidth: bitWidth, keystreamByteCount: byteCount, maskSeconds: maskSeconds,
            keystreamSeconds: keystreamSeconds)
    }
}
