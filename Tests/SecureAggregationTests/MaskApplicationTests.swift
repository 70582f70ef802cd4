import SecAggCrypto
import SecureAggregation
import Testing

@Suite struct MaskApplicationTests {
    /// The reference: every mask expanded in full and added (or subtracted) one after the other.
    private static func reference(_ jobs: [MaskJob], start: [[UInt64]], inputs: [InputSpecification]) throws
        -> [[UInt64]]
    {
        var out = start
        for (i, spec) in inputs.enumerated() {
            for job in jobs {
                let mask = try MaskPrg(seed: job.seed, stream: UInt32(i)).expand(
                    count: spec.length, modulus: spec.modulus)
                for k in 0..<spec.length {
                    out[i][k] =
                        job.negate ? spec.modulus.subtract(out[i][k], mask[k]) : spec.modulus.add(out[i][k], mask[k])
                }
            }
        }
        return out
    }

    @Test(
        "tiled, grouped, multi-threaded application equals mask-by-mask expansion",
        arguments: [1, 2, 3, 8])
    func matchesReference(concurrency: Int) throws {
        var rng = DeterministicRandomGenerator(testLabel: "mask application \(concurrency)")
        let inputs = [
            InputSpecification(
                name: "a", length: 3 * MaskApplication.tileElementCount + 123, modulus: .powerOfTwo(bitWidth: 32)),
            InputSpecification(name: "b", length: 1000, modulus: .integer(1_000_003)),
            InputSpecification(name: "c", length: 77, modulus: .powerOfTwo(bitWidth: 64)),
        ]
        let start = inputs.map { spec in (0..<spec.length).map { _ in spec.modulus.reduce(rng.next(UInt64.self)) } }
        for jobCount in [1, 5, 40] {
            let jobs = (0..<jobCount).map { j in
                MaskJob(seed: SecretBytes(randomByteCount: 32, using: &rng), negate: j % 3 == 1)
            }
            var vectors = start
            try MaskApplication.apply(jobs, to: &vectors, inputs: inputs, concurrency: concurrency)
            #expect(vectors == (try Self.reference(jobs, start: start, inputs: inputs)), "\(jobCount) jobs")
        }
    }

    @Test("no jobs leaves the vectors unchanged")
    func noJobs() throws {
        let inputs = [InputSpecification(name: "a", length: 10, modulus: .powerOfTwo(bitWidth: 16))]
        var vectors: [[UInt64]] = [Array(0..<10)]
        try MaskApplication.apply([], to: &vectors, inputs: inputs, concurrency: 4)
        #expect(vectors == [Array(0..<10)])
    }
}

@Test(
    "sessions aggregate exactly with multi-threaded client masking and server unmasking",
    arguments: [(2, 1), (3, 3), (1, 5)])
func concurrentMaskingAndUnmasking(clientConcurrency: Int, serverConcurrency: Int) throws {
    var rng = DeterministicRandomGenerator(testLabel: "concurrency \(clientConcurrency) \(serverConcurrency)")
    let inputs =
        mixedInputs + [
            InputSpecification(
                name: "long", length: 2 * MaskApplication.tileElementCount + 5, modulus: .powerOfTwo(bitWidth: 20))
        ]
    let (config, keys) = SessionDriver.makeConfiguration(n: 10, t: 5, model: .semiHonest, inputs: inputs, rng: &rng)
    var driver = SessionDriver(
        configuration: config, inputs: SessionDriver.randomInputs(config, rng: &rng), signingKeys: keys,
        dropAt: [2: .maskedInputCollection, 5: .maskedInputCollection, 9: .shareKeys])
    driver.clientMaskingConcurrency = clientConcurrency
    driver.serverUnmaskingConcurrency = serverConcurrency
    let outcome = try driver.run()
    let result = try #require(outcome.result, "aborted: \(String(describing: outcome.serverError))")
    let included: [UInt32] = [1, 3, 4, 6, 7, 8, 10]
    #expect(result.includedClients.map(\.rawValue) == included)
    #expect(result.vectors == driver.expectedSum(of: included))
}

/// The engine's masking path reproduces its known answer (SPEC.md §11.7) on 1, 2 and 3 workers, and the
/// constant is what the raw keystream gives under SPEC §4 (the mapping written out here).
@Test func maskingKnownAnswer() throws {
    #expect(MaskApplication.knownAnswerPasses)
    for workers in [1, 2, 3] {
        #expect(
            MaskApplication.digest(try MaskApplication.knownAnswerVectors(concurrency: workers))
                == MaskApplication.knownAnswerDigest)
    }
    var expected: [[UInt64]] = []
    for (i, (length, bits)) in [(20_000, 32), (5_000, 13)].enumerated() {
        let mask = UInt64(1) << UInt64(bits) - 1
        func words(_ label: String) throws -> [UInt64] {
            let prg = try MaskPrg(seed: SecretBytes(copying: Hkdf.sha256(Array(label.utf8))), stream: UInt32(i))
            let stream = try prg.keystreamBytes(count: length * 4)
            return (0..<length).map { k in
                (UInt64(stream[4 * k]) | UInt64(stream[4 * k + 1]) << 8 | UInt64(stream[4 * k + 2]) << 16
                    | UInt64(stream[4 * k + 3]) << 24) & mask
            }
        }
        let added = try words("secagg/v1/known-answer/add")
        let subtracted = try words("secagg/v1/known-answer/subtract")
        expected.append(zip(added, subtracted).map { ($0 &- $1) & mask })
    }
    #expect(MaskApplication.digest(expected) == MaskApplication.knownAnswerDigest)
}
