import Foundation
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

@Suite struct FusedKernelTests {
    /// Whether this CPU reports AVX-512F (Linux); the fused kernel must then be available, so a kernel
    /// that failed its start-up self-test fails here instead of silently falling back.
    private static var cpuHasAvx512: Bool {
        #if arch(x86_64) && os(Linux)
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
            return info.split(separator: "\n").contains {
                $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512f")
            }
        #else
            return false
        #endif
    }

    private static let powerOfTwoModuli: [RingModulus] = sweepModuli.filter(\.isPowerOfTwo)

    @Test("the fused kernel is available wherever the CPU supports it")
    func availability() {
        if Self.cpuHasAvx512 {
            #expect(MaskScratch.FusedKernel.available == [.avx512])
            #expect(MaskScratch(fusedKernel: .avx512).fusedKernel == .avx512)
        }
        #expect(MaskScratch(fusedKernel: nil).fusedKernel == nil)
        for kernel in MaskScratch.FusedKernel.available { #expect(kernel.isAvailable) }
    }

    @Test("fused keystream-and-add equals keystream-then-add and the SPEC §4 model", arguments: powerOfTwoModuli)
    func fusedMatchesUnfused(modulus: RingModulus) throws {
        var rng = DeterministicRandomGenerator(testLabel: "fused \(modulus)")
        let prg = try MaskPrg(seed: SecretBytes(randomByteCount: 32, using: &rng), stream: 5)
        let plain = MaskScratch(fusedKernel: nil)
        // Group boundaries: 16 blocks are 256 32-bit or 128 64-bit words.
        let offsets = [0, 1, 15, 16, 17, 127, 128, 255, 256, 257, 4095, 4096, 70_001]
        let counts = [1, 16, 127, 128, 129, 255, 256, 257, 1000, 4096, 9000]
        let model = try referenceMask(prg: prg, count: 70_001 + 9000, modulus: modulus)
        for kernel in MaskScratch.FusedKernel.available {
            let fused = MaskScratch(fusedKernel: kernel)
            for offset in offsets {
                for count in counts {
                    let start = (0..<count).map { _ in modulus.reduce(rng.next(UInt64.self)) }
                    for subtract in [false, true] {
                        var a = start
                        var b = start
                        try a.withUnsafeMutableBufferPointer { buffer in
                            try prg.apply(
                                to: buffer, elementOffset: offset, modulus: modulus, subtract: subtract, scratch: fused)
                        }
                        try b.withUnsafeMutableBufferPointer { buffer in
                            try prg.apply(
                                to: buffer, elementOffset: offset, modulus: modulus, subtract: subtract, scratch: plain)
                        }
                        let expected = (0..<count).map { i in
                            subtract
                                ? modulus.subtract(start[i], model[offset + i])
                                : modulus.add(start[i], model[offset + i])
                        }
                        #expect(a == b, "\(kernel) offset \(offset) count \(count) subtract \(subtract)")
                        #expect(a == expected, "\(kernel) offset \(offset) count \(count) subtract \(subtract)")
                    }
                }
            }
        }
    }

    @Test("the fused kernel stops at the end of the 32-bit block counter")
    func counterEnd() throws {
        var rng = DeterministicRandomGenerator(testLabel: "fused counter end")
        let prg = try MaskPrg(seed: SecretBytes(randomByteCount: 32, using: &rng), stream: 1)
        for modulus in [RingModulus.powerOfTwo(bitWidth: 32), .powerOfTwo(bitWidth: 64)] {
            let maximum = MaskPrg.maximumElementCount(for: modulus)
            for kernel in MaskScratch.FusedKernel.available {
                for (offset, count) in [(maximum - 5000, 5000), (maximum - 300, 300), (maximum - 4096 - 7, 4096 + 7)] {
                    var a = [UInt64](repeating: 0, count: count)
                    var b = a
                    try a.withUnsafeMutableBufferPointer { buffer in
                        try prg.apply(
                            to: buffer, elementOffset: offset, modulus: modulus, subtract: false,
                            scratch: MaskScratch(fusedKernel: kernel))
                    }
                    try b.withUnsafeMutableBufferPointer { buffer in
                        try prg.apply(
                            to: buffer, elementOffset: offset, modulus: modulus, subtract: false,
                            scratch: MaskScratch(fusedKernel: nil))
                    }
                    #expect(a == b, "\(modulus) offset \(offset)")
                }
            }
        }
    }
}
