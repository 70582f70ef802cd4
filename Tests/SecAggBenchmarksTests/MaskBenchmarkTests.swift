import SecAggBenchmarks
import Testing

@Suite struct MaskBenchmarkTests {
    @Test("the mask benchmark validates its parameters and reports consistent figures")
    func benchmark() throws {
        let result = try MaskBenchmark.run(elementCount: 1_000, bitWidth: 32, repetitions: 1)
        #expect(result.keystreamByteCount == 4_000)
        #expect(result.maskSeconds > 0 && result.keystreamSeconds > 0)
        #expect(result.jsonReport.contains("\"mask_gbps\""))
        #expect(result.jsonReport.contains("\"keystream_gbps\""))
        #expect(result.jsonReport.contains("\"ratio\""))
        let wide = try MaskBenchmark.run(elementCount: 100, bitWidth: 48, repetitions: 1)
        #expect(wide.keystreamByteCount == 800)
        #expect(throws: MaskBenchmarkError.invalidBitWidth(bits: 0)) {
            try MaskBenchmark.run(elementCount: 10, bitWidth: 0)
        }
        #expect(throws: MaskBenchmarkError.self) { try MaskBenchmark.run(elementCount: 0, bitWidth: 32) }
        #expect(throws: MaskBenchmarkError.self) { try MaskBenchmark.run(elementCount: -5, bitWidth: 32) }
    }
}
