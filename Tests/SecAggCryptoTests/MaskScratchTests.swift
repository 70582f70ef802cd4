import SecAggCrypto
import Testing

@Suite struct MaskScratchTests {
    @Test("the scratch-buffer entry point equals the generic one at any offset", arguments: sweepModuli)
    func scratchMatchesGeneric(modulus: RingModulus) throws {
        var rng = DeterministicRandomGenerator(testLabel: "scratch \(modulus)")
        let prg = try MaskPrg(seed: SecretBytes(randomByteCount: 32, using: &rng), stream: 3)
        let scratch = MaskScratch()
        let offsets = modulus.isPowerOfTwo ? [0, 1, 15, 4096, 5000] : [0]
        for offset in offsets {
            for count in [1, 17, 4097, 9000] {
                let start = (0..<count).map { _ in modulus.reduce(rng.next(UInt64.self)) }
                for subtract in [false, true] {
                    var generic = start
                    var fast = start
                    try generic.withUnsafeMutableBufferPointer { b in
                        try prg.apply(to: b, elementOffset: offset, modulus: modulus, subtract: subtract)
                    }
                    try fast.withUnsafeMutableBufferPointer { b in
                        try prg.apply(
                            to: b, elementOffset: offset, modulus: modulus, subtract: subtract, scratch: scratch)
                    }
                    #expect(fast == generic, "offset \(offset) count \(count) subtract \(subtract)")
                }
            }
        }
    }

    @Test("the scratch-buffer entry point validates like the generic one")
    func scratchValidates() throws {
        let prg = try MaskPrg(seed: SecretBytes(copying: [UInt8](repeating: 7, count: 32)))
        var buffer = [UInt64](repeating: 0, count: 8)
        let scratch = MaskScratch()
        #expect(throws: SecAggCryptoError.self) {
            try buffer.withUnsafeMutableBufferPointer { b in
                try prg.apply(to: b, elementOffset: 3, modulus: .integer(1_000_003), subtract: false, scratch: scratch)
            }
        }
        #expect(throws: SecAggCryptoError.self) {
            try buffer.withUnsafeMutableBufferPointer { b in
                try prg.apply(
                    to: b, elementOffset: .max - 2, modulus: .powerOfTwo(bitWidth: 32), subtract: false,
                    scratch: scratch)
            }
        }
    }
}
