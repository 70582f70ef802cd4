import SecAggCrypto
import SecureAggregation
import Testing

@Suite("memory limits (issue 11, SPEC.md §11.8)")
struct ResourceLimitTests {
    /// The 74-byte configuration of the review: 256 inputs of 2^31 elements each are within the encoding's limits
    /// and decode, but the sums alone would be 4 TiB; the server refuses it before allocating anything, under
    /// the default limit as under an explicit one.
    @Test func aTinyConfigurationCannotMakeTheServerAllocateTerabytes() throws {
        let inputs = (0..<256).map {
            InputSpecification(name: "v\($0)", length: 1 << 31, modulus: .powerOfTwo(bitWidth: 8))
        }
        let config = SessionConfiguration(
            clientCount: 4, threshold: 2, inputs: inputs, nonce: [UInt8](repeating: 0, count: 32))
        try config.validate()
        let decoded = try SessionConfiguration(encoded: config.encoded)
        #expect(decoded == config)
        let required = config.serverMemoryEstimate(unmaskingWorkers: 1)
        #expect(required > 256 << 34)
        #expect(
            throws: SecAggError.resourceLimitExceeded(
                resource: "the server", required: required, limit: ResourceLimits.default.maximumMemoryBytes)
        ) {
            _ = try SecAggServer(configuration: decoded)
        }
        #expect(throws: SecAggError.self) { _ = try SecAggClient(configuration: decoded, index: ClientID(1)) }
    }

    /// One 2^31-element vector is 17 GB of sums: refused under an 8 GiB limit, accepted without one (nothing is
    /// allocated until the test asks, so this stays cheap) — the check is against the limit, not a fixed size.
    @Test func theLimitIsTheOperators() throws {
        let big = SessionConfiguration(
            clientCount: 4, threshold: 2,
            inputs: [InputSpecification(name: "x", length: 1 << 31, modulus: .powerOfTwo(bitWidth: 32))],
            nonce: [UInt8](repeating: 1, count: 32))
        #expect(throws: SecAggError.self) {
            _ = try SecAggServer(configuration: big, limits: ResourceLimits(maximumMemoryBytes: 8 << 30))
        }
        let small = SessionConfiguration(
            clientCount: 5, threshold: 3,
            inputs: [InputSpecification(name: "x", length: 1000, modulus: .powerOfTwo(bitWidth: 32))],
            nonce: [UInt8](repeating: 1, count: 32))
        let estimate = small.serverMemoryEstimate(unmaskingWorkers: 1)
        _ = try SecAggServer(configuration: small, limits: ResourceLimits(maximumMemoryBytes: estimate))
        #expect(
            throws: SecAggError.resourceLimitExceeded(resource: "the server", required: estimate, limit: estimate - 1)
        ) {
            _ = try SecAggServer(configuration: small, limits: ResourceLimits(maximumMemoryBytes: estimate - 1))
        }
        #expect(ResourceLimits.default.maximumMemoryBytes >= 1 << 30)
    }

    /// Unmasking uses fewer workers than asked when the limit has no room for their accumulators, and the sum is
    /// the same.
    @Test func unmaskingStaysWithinTheLimit() throws {
        var rng = DeterministicRandomGenerator(testLabel: "limit workers")
        let inputs = [InputSpecification(name: "x", length: 50_000, modulus: .powerOfTwo(bitWidth: 32))]
        let (config, _) = SessionDriver.makeConfiguration(n: 5, t: 3, model: .semiHonest, inputs: inputs, rng: &rng)
        let values = SessionDriver.randomInputs(config, rng: &rng)
        var driver = SessionDriver(configuration: config, inputs: values, dropAt: [5: .maskedInputCollection])
        driver.serverUnmaskingConcurrency = 8
        driver.serverLimits = ResourceLimits(maximumMemoryBytes: config.serverMemoryEstimate(unmaskingWorkers: 2))
        let outcome = try driver.run()
        let result = try #require(outcome.result)
        #expect(result.vectors == driver.expectedSum(of: [1, 2, 3, 4]))
        #expect(outcome.server.unmaskingWorkersUsed == 2)
    }
}
