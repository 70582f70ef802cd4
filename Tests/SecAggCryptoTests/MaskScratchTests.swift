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

/// Serialized: these tests switch the process-wide backend (outputs must not change, so other suites
/// running meanwhile are unaffected either way).
@Suite(.serialized) struct KeystreamBackendTests {
    private static func masks(enabled: Bool, modulus: RingModulus, offset: Int, count: Int) throws -> [UInt64] {
        MaskPrg.setFastKeystreamBackend(enabled: enabled)
        defer { MaskPrg.setFastKeystreamBackend(enabled: true) }
        var rng = DeterministicRandomGenerator(testLabel: "backend \(modulus) \(offset) \(count)")
        let prg = try MaskPrg(seed: SecretBytes(randomByteCount: 32, using: &rng), stream: 9)
        var out = [UInt64](repeating: 0, count: count)
        let scratch = MaskScratch()
        try out.withUnsafeMutableBufferPointer { b in
            try prg.apply(to: b, elementOffset: offset, modulus: modulus, subtract: false, scratch: scratch)
        }
        return out
    }

    @Test("the backend is named, and it produces libsodium's keystream exactly")
    func backendMatchesLibsodium() throws {
        #expect(["openssl", "libsodium"].contains(MaskPrg.keystreamBackend))
        for modulus in sweepModuli {
            let offsets = modulus.isPowerOfTwo ? [0, 3, 70_000] : [0]
            for offset in offsets {
                let fast = try Self.masks(enabled: true, modulus: modulus, offset: offset, count: 20_000)
                let slow = try Self.masks(enabled: false, modulus: modulus, offset: offset, count: 20_000)
                #expect(fast == slow, "\(modulus) offset \(offset)")
            }
        }
        // The last blocks of the 32-bit counter space (the fast path must not carry into the nonce).
        let modulus = RingModulus.powerOfTwo(bitWidth: 32)
        let last = MaskPrg.maximumElementCount(for: modulus) - 5000
        #expect(
            try Self.masks(enabled: true, modulus: modulus, offset: last, count: 5000)
                == Self.masks(enabled: false, modulus: modulus, offset: last, count: 5000))
    }

    @Test("the backend's raw keystream equals libsodium's on the all-zero key and nonce")
    func rawStreamsMatch() throws {
        let count = 3 * 16_384 + 64
        let a = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer {
            a.deallocate()
            b.deallocate()
        }
        try MaskPrg.rawKeystreamBenchmark(into: a)
        try MaskPrg.rawBackendKeystreamBenchmark(into: b, scratch: MaskScratch())
        #expect(Array(a) == Array(b))
        // RFC 8439 §2.3.2 style check of the first block: all-zero key and nonce, counter 0.
        #expect(Array(a[0..<8]) == [0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90])
    }
}
