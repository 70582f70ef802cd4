import Foundation
public import SecAggCrypto
public import SecAggSimulation
import SecureAggregation

/// Best-of-N wall-clock seconds of `body` after one warm-up run.
func bestSeconds(_ repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var best = Double.infinity
    let clock = ContinuousClock()
    for _ in 0..<max(1, repetitions) {
        let elapsed = try clock.measure(body)
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    return best
}

/// JSON with sorted keys.
func sortedJson(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let data = try? encoder.encode(value) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}

/// Shamir costs at the sizes the server meets on the complete graph (`secagg bench shamir`).
public struct ShamirBenchmarkResult: Sendable, Codable, Hashable {
    /// n: shares per secret.
    public var shares: Int
    /// t.
    public var threshold: Int
    /// Splitting one 32-byte secret into n shares.
    public var splitSeconds: Double
    /// Reconstructing one secret from t + 1 shares, coefficients included (O(t²)).
    public var reconstructSeconds: Double
    /// Reconstructing one secret with its coefficients already computed (O(t)).
    public var reconstructCachedSeconds: Double
    /// Building a leave-one-out family over t + 2 coordinates (O(t²), once per session).
    public var familySetupSeconds: Double
    /// Deriving one leave-one-out coefficient set from the family (O(t)).
    public var familyDeriveSeconds: Double
    /// All n reconstructions of a complete-graph session (every owner's set is the first t + 1 responders
    /// other than itself): family, derived sets and reconstructions, on one thread.
    public var sessionSeconds: Double
    /// The same n reconstructions with every distinct set computed from scratch (the O(t³) way).
    public var sessionNaiveSeconds: Double

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey {
        case shares, threshold
        case splitSeconds = "split_s"
        case reconstructSeconds = "reconstruct_s"
        case reconstructCachedSeconds = "reconstruct_cached_s"
        case familySetupSeconds = "family_setup_s"
        case familyDeriveSeconds = "family_derive_s"
        case sessionSeconds = "session_reconstruct_s"
        case sessionNaiveSeconds = "session_reconstruct_naive_s"
    }

    /// One JSON object.
    public var jsonReport: String { sortedJson(self) }

    /// Human-readable lines.
    public var textReport: String {
        """
        shamir: n=\(shares), t=\(threshold), 32-byte secrets
        split:                    \(splitSeconds * 1e3) ms per secret
        reconstruct:              \(reconstructSeconds * 1e3) ms per secret (coefficients included)
        reconstruct, cached:      \(reconstructCachedSeconds * 1e3) ms per secret
        family setup / derive:    \(familySetupSeconds * 1e3) ms / \(familyDeriveSeconds * 1e3) ms
        n reconstructions:        \(sessionSeconds) s (leave-one-out family), \(sessionNaiveSeconds) s (naive)
        """
    }
}

/// `secagg bench shamir`.
public enum ShamirBenchmark {
    /// Runs every measurement for n shares and threshold t (default ⌈2(n − 1)/3⌉).
    public static func run(shareCount n: Int, threshold: Int?, repetitions: Int = 3) throws(SimulationError)
        -> ShamirBenchmarkResult
    {
        guard n >= 3, n <= 100_000 else { throw .invalidArgument("--clients must be in 3...100000") }
        let t = threshold ?? max(1, Int((2.0 * Double(n - 1) / 3.0).rounded(.up)))
        guard t >= 1, t + 2 <= n else { throw .invalidArgument("--threshold must be in 1...\(n - 2)") }
        do {
            var rng = DeterministicRandomGenerator(testLabel: "bench shamir")
            let xs = (1...n).map { UInt32($0) }
            let secrets = (0..<n).map { _ in SecretBytes(randomByteCount: 32, using: &rng) }
            var shares: [[ShamirShare]] = []
            let split = try bestSeconds(repetitions) {
                shares = [
                    try ShamirSecretSharing.split(secret: secrets[0], threshold: t, xCoordinates: xs, using: &rng)
                ]
            }
            for s in secrets.dropFirst() {
                shares.append(try ShamirSecretSharing.split(secret: s, threshold: t, xCoordinates: xs, using: &rng))
            }
            let first = Array(shares[0].prefix(t + 1))
            let reconstruct = try bestSeconds(repetitions) {
                _ = try ShamirSecretSharing.reconstruct(first, threshold: t, secretByteCount: 32)
            }
            let reconstructor = try ShamirReconstructor(xCoordinates: first.map(\.x), threshold: t)
            let cached = try bestSeconds(repetitions) { _ = try reconstructor.reconstruct(first, secretByteCount: 32) }
            var family = try ShamirReconstructorFamily(xCoordinates: Array(xs.prefix(t + 2)))
            let setup = try bestSeconds(repetitions) {
                family = try ShamirReconstructorFamily(xCoordinates: Array(xs.prefix(t + 2)))
            }
            let leaveOut = Array(xs.prefix(t + 2).dropFirst())
            let derive = try bestSeconds(repetitions) {
                _ = try family.reconstructor(xCoordinates: leaveOut, threshold: t)
            }
            // A session: owner u's shares come from everyone but u; the first t + 1 are used.
            func session(naive: Bool) throws -> Double {
                try bestSeconds(0) {
                    let f = naive ? nil : try ShamirReconstructorFamily(xCoordinates: Array(xs.prefix(t + 2)))
                    var cache: [[UInt32]: ShamirReconstructor] = [:]
                    for owner in 0..<n {
                        let chosen = Array(shares[owner].filter { $0.x != UInt32(owner + 1) }.prefix(t + 1))
                        let key = chosen.map(\.x)
                        let r: ShamirReconstructor
                        if let c = cache[key] {
                            r = c
                        } else {
                            r =
                                try f?.reconstructor(xCoordinates: key, threshold: t)
                                ?? ShamirReconstructor(xCoordinates: key, threshold: t)
                            cache[key] = r
                        }
                        guard try r.reconstruct(chosen, secretByteCount: 32) == secrets[owner] else {
                            throw SimulationError.configuration("reconstruction mismatch")
                        }
                    }
                }
            }
            return ShamirBenchmarkResult(
                shares: n, threshold: t, splitSeconds: split, reconstructSeconds: reconstruct,
                reconstructCachedSeconds: cached, familySetupSeconds: setup, familyDeriveSeconds: derive,
                sessionSeconds: try session(naive: false), sessionNaiveSeconds: try session(naive: true))
        } catch let error as SimulationError {
            throw error
        } catch {
            throw .configuration("\(error)")
        }
    }
}

/// Encoding and decoding throughput of one masked input (`secagg bench wire`).
public struct WireBenchmarkResult: Sendable, Codable, Hashable {
    /// m.
    public var length: Int
    /// The ring.
    public var modulus: String
    /// Bytes of the encoded message.
    public var messageBytes: Int
    /// Best time to encode one message.
    public var encodeSeconds: Double
    /// Best time to decode (and validate) one message.
    public var decodeSeconds: Double

    /// Encoded bytes per second, encoding (10^9 bytes).
    public var encodeGigabytesPerSecond: Double { Double(messageBytes) / encodeSeconds / 1e9 }
    /// Encoded bytes per second, decoding.
    public var decodeGigabytesPerSecond: Double { Double(messageBytes) / decodeSeconds / 1e9 }

    private struct Report: Encodable {
        var length: Int
        var modulus: String
        var message_bytes: Int
        var encode_s: Double
        var decode_s: Double
        var encode_gbps: Double
        var decode_gbps: Double
    }

    /// One JSON object.
    public var jsonReport: String {
        sortedJson(
            Report(
                length: length, modulus: modulus, message_bytes: messageBytes, encode_s: encodeSeconds,
                decode_s: decodeSeconds, encode_gbps: encodeGigabytesPerSecond,
                decode_gbps: decodeGigabytesPerSecond))
    }

    /// Human-readable lines.
    public var textReport: String {
        """
        wire: masked input, m=\(length) \(modulus), \(messageBytes) bytes
        encode: \(encodeSeconds * 1e3) ms (\(encodeGigabytesPerSecond) GB/s)
        decode: \(decodeSeconds * 1e3) ms (\(decodeGigabytesPerSecond) GB/s)
        """
    }
}

/// `secagg bench wire`.
public enum WireBenchmark {
    /// Encodes and decodes one masked input of `length` elements of `modulus`, best of `repetitions`.
    public static func run(length: Int, modulus: RingModulus, repetitions: Int = 7) throws(SimulationError)
        -> WireBenchmarkResult
    {
        guard length >= 1, length <= 1 << 28 else { throw .invalidArgument("--length must be in 1...2^28") }
        do {
            var rng = DeterministicRandomGenerator(testLabel: "bench wire")
            let spec = InputSpecification(name: "input", length: length, modulus: modulus)
            let configuration = SessionConfiguration(
                clientCount: 3, threshold: 2, securityModel: .semiHonest, inputs: [spec], graph: .complete,
                nonce: rng.bytes(count: 32), verificationKeys: [])
            try configuration.validate()
            let wire = WireFormat(configuration: configuration)
            let vector = (0..<length).map { _ in modulus.reduce(rng.next(UInt64.self)) }
            let message = ClientMessage.maskedInput(
                sessionId: rng.bytes(count: 32), sender: 1, complaints: [], vectors: [vector])
            var bytes = try wire.encode(message)
            let encode = try bestSeconds(repetitions) { bytes = try wire.encode(message) }
            var decoded: ClientMessage?
            let decode = try bestSeconds(repetitions) { decoded = try wire.decodeClientMessage(bytes) }
            guard decoded == message else { throw SimulationError.configuration("wire round trip mismatch") }
            return WireBenchmarkResult(
                length: length, modulus: modulus.description, messageBytes: bytes.count, encodeSeconds: encode,
                decodeSeconds: decode)
        } catch let error as SimulationError {
            throw error
        } catch {
            throw .configuration("\(error)")
        }
    }
}

/// Throughput of ``MaskApplication`` (the engine's masking loop) against raw keystream (`secagg bench apply`).
public struct ApplyBenchmarkResult: Sendable, Codable, Hashable {
    /// Masks applied.
    public var masks: Int
    /// m.
    public var length: Int
    /// Threads.
    public var threads: Int
    /// Keystream bytes expanded.
    public var maskBytes: Double
    /// Best wall-clock time of one application of all masks.
    public var seconds: Double
    /// Single-core raw keystream throughput measured in the same run (bytes/s).
    public var keystreamBytesPerSecond: Double

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey {
        case masks, length, threads, seconds
        case maskBytes = "mask_bytes"
        case keystreamBytesPerSecond = "keystream_bytes_per_s"
    }

    /// seconds / (maskBytes / keystream throughput).
    public var ratio: Double { seconds / (maskBytes / keystreamBytesPerSecond) }

    /// Human-readable line.
    public var textReport: String {
        "apply: \(masks) masks × \(length) on \(threads) threads: \(seconds * 1e3) ms, "
            + "\(maskBytes / seconds / 1e9) GB/s (\(MaskPrg.maskBackend)); libsodium keystream "
            + "\(keystreamBytesPerSecond / 1e9) GB/s per core; "
            + "ratio to the one-core floor \(ratio)"
    }
}

/// `secagg bench apply`.
public enum ApplyBenchmark {
    /// Applies `masks` random masks to one vector of `length` elements of Z_2^bits.
    public static func run(masks: Int, length: Int, bits: Int, threads: Int, repetitions: Int = 5)
        throws(SimulationError) -> ApplyBenchmarkResult
    {
        guard masks >= 1, masks <= 1_000_000, length >= 1, length <= 1 << 26 else {
            throw .invalidArgument("--masks must be in 1...10^6 and --length in 1...2^26")
        }
        let modulus = RingModulus.powerOfTwo(bitWidth: bits)
        do {
            try modulus.validate()
            var rng = DeterministicRandomGenerator(testLabel: "bench apply")
            let jobs = (0..<masks).map { j in
                MaskJob(seed: SecretBytes(randomByteCount: 32, using: &rng), negate: j % 2 == 0)
            }
            let inputs = [InputSpecification(name: "input", length: length, modulus: modulus)]
            var vectors = [[UInt64](repeating: 0, count: length)]
            let seconds = try bestSeconds(repetitions) {
                try MaskApplication.apply(jobs, to: &vectors, inputs: inputs, concurrency: threads)
            }
            let rate = try ProtocolBenchmark.measureKeystreamBytesPerSecond()
            return ApplyBenchmarkResult(
                masks: masks, length: length, threads: threads,
                maskBytes: Double(masks) * Double(length) * Double(modulus.wordByteCount), seconds: seconds,
                keystreamBytesPerSecond: rate)
        } catch let error as SimulationError {
            throw error
        } catch {
            throw .configuration("\(error)")
        }
    }
}
