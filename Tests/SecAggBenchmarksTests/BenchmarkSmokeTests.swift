import SecAggBenchmarks
import SecAggCrypto
import SecAggSimulation
import SecureAggregation
import Testing

/// Tiny runs of every `secagg bench` measurement: they complete, check their own results and validate
/// their parameters (the figures themselves are only meaningful in a release build).
@Suite struct BenchmarkSmokeTests {
    @Test("a small protocol session verifies, with one client dropping after sharing keys")
    func protocolSession() throws {
        var options = ProtocolBenchmarkOptions()
        options.clientCount = 6
        options.vectorLength = 300
        options.drops = [DropSpecification(fraction: 0.2, round: .maskedInputCollection)]
        options.serverConcurrency = 2
        options.clientsSideBySide = 2
        let result = try ProtocolBenchmark.run(options)
        #expect(result.verified)
        #expect(result.clients == 6 && result.included == 5 && result.droppedAfterSharing == 1)
        #expect(result.threshold == 4)
        #expect(result.maskBytesServer == Double(5 + 5) * 300 * 4)
        #expect(result.jsonReport.contains("\"client_s\""))
        #expect(throws: SimulationError.self) {
            var tooFew = ProtocolBenchmarkOptions()
            tooFew.clientCount = 1
            return try ProtocolBenchmark.run(tooFew)
        }
    }

    @Test("the Shamir, wire and mask-application benchmarks run and validate their parameters")
    func microBenchmarks() throws {
        let shamir = try ShamirBenchmark.run(shareCount: 7, threshold: nil, repetitions: 1)
        #expect(shamir.threshold == 4)
        #expect(shamir.jsonReport.contains("\"session_reconstruct_s\""))
        #expect(throws: SimulationError.self) { try ShamirBenchmark.run(shareCount: 2, threshold: nil) }

        let wire = try WireBenchmark.run(length: 100, modulus: .powerOfTwo(bitWidth: 13), repetitions: 1)
        #expect(wire.modulus == "2^13" && wire.messageBytes > 100 * 13 / 8)
        #expect(throws: SimulationError.self) { try WireBenchmark.run(length: 0, modulus: .powerOfTwo(bitWidth: 8)) }

        let apply = try ApplyBenchmark.run(masks: 3, length: 5000, bits: 20, threads: 2, repetitions: 1)
        #expect(apply.maskBytes == 3 * 5000 * 4)
        #expect(throws: SimulationError.self) { try ApplyBenchmark.run(masks: 0, length: 10, bits: 32, threads: 1) }
    }
}
