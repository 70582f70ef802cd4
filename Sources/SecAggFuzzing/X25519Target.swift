internal import CSodium
internal import CSodiumShims
import SecAggCrypto

/// `x25519`: differential test of the AVX-512 IFMA batch (`x25519_batch.c`, eight lanes in radix 2^51)
/// against libsodium's `crypto_scalarmult`, one point at a time (SPEC.md §2.2).
///
/// Checked for every input: (1) the C kernel `CSodiumShims_x25519_batch` gives, lane by lane, libsodium's
/// output, and all zeros exactly where libsodium refuses a point (low order); (2) with two or more points,
/// `X25519.PrivateKey.sharedSecrets(with:backend: .avx512ifma)` returns libsodium's secrets in order, or
/// throws `invalidPublicKey` exactly when some point is refused.
///
/// Constant-time code has almost no branches, so coverage guides little; the input format is shaped
/// so that the mutator reaches the values where radix-2^51 arithmetic carries rarely:
///
/// - byte 0, scalar mode (mod 4): 0–2 = the next 32 bytes; 3 = the next byte repeated 32 times;
/// - next byte: point count, 1 + byte mod 24 (up to three batches of eight, with padding lanes);
/// - per point, a mode byte m (bit 7 sets bit 255 of the built point, which X25519 must ignore), then by
///   m mod 8:
///   - 0, 1: 32 raw bytes;
///   - 2: five limb selectors, one radix-2^51 limb each: 0, 1, 2, 19, 2^51 − 1, 2^51 − 2, 2^51 − 19 (p's
///     low limb), 2^51 − 20, 2^51 − 18, 2^50, 2^50 − 1, 2^51 − 2^k or 2^k (k from the next byte), or 51 raw
///     bits (the next 8 bytes);
///   - 3: p + δ for a signed 16-bit δ (non-canonical u in p ... 2^255 − 1, values just below p, and past
///     2^255, which wrap to small values);
///   - 4: a low-order point (the seven u-coordinates libsodium refuses), by the next byte;
///   - 5: a small u (LE16);
///   - 6: 2^k + δ, k the next byte, δ a signed byte;
///   - 7: an earlier point (index byte) with one byte replaced (position and value bytes): equal and
///     nearly equal lanes side by side.
enum X25519Target {
    static let target = FuzzTarget(
        name: "x25519",
        summary: "X25519 AVX-512 IFMA batch (C kernel and sharedSecrets(with:backend:)) against libsodium",
        requirement: requirement,
        run: run)

    static let maximumPointCount = 24

    static func requirement() -> Requirement {
        guard CSodiumShims_x25519_batch_available() == 0 else { return .met }
        let flags = CPUFlags.current
        if flags.contains("avx512f"), flags.contains("avx512ifma") {
            return .failedSelfTest(
                "the AVX-512 IFMA X25519 batch FAILED its start-up self-test although the CPU has avx512f and "
                    + "avx512ifma: that is a bug in x25519_batch.c")
        }
        return .unsupportedMachine(
            "the AVX-512 IFMA X25519 batch is unavailable on this machine (CPU flags avx512f and avx512ifma "
                + "required): the target would only compare libsodium with itself")
    }

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let scalarMode = input.byte() % 4
        let scalar: [UInt8] = scalarMode < 3 ? input.bytes(32) : [UInt8](repeating: input.byte(), count: 32)
        let count = 1 + Int(input.byte()) % maximumPointCount
        var points: [[UInt8]] = []
        for _ in 0..<count { points.append(point(&input, earlier: points)) }

        // Libsodium, one point at a time: nil where it refuses the point.
        let reference: [[UInt8]?] = points.map { point in
            var out = [UInt8](repeating: 0, count: 32)
            let status = crypto_scalarmult(&out, scalar, point)
            return status == 0 ? out : nil
        }

        // (1) The C kernel, all lanes.
        var batch = [UInt8](repeating: 0xA5, count: 32 * count)
        let flat = points.flatMap { $0 }
        guard CSodiumShims_x25519_batch(&batch, scalar, flat, count) == 0 else {
            violation("x25519", "CSodiumShims_x25519_batch refused to run (unavailable after the start-up check)")
        }
        for i in 0..<count {
            let got = Array(batch[(32 * i)..<(32 * i + 32)])
            let want = reference[i] ?? [UInt8](repeating: 0, count: 32)
            guard got == want else {
                violation(
                    "x25519",
                    "lane \(i) of \(count): scalar \(scalar.hexString), point \(points[i].hexString): batch \(got.hexString), libsodium \(reference[i]?.hexString ?? "refused (low order)")"
                )
            }
        }

        // (2) The public API (it uses the batch only for two or more peers).
        guard count >= 2 else { return }
        let key: X25519.PrivateKey
        let peers: [X25519.PublicKey]
        do {
            key = try X25519.PrivateKey(rawRepresentation: SecretBytes(copying: scalar))
            peers = try points.map { (p) throws(SecAggCryptoError) in try X25519.PublicKey(rawRepresentation: p) }
        } catch {
            violation("x25519", "32-byte keys refused: \(error)")
        }
        let result = Result { () throws(SecAggCryptoError) in try key.sharedSecrets(with: peers, backend: .avx512ifma) }
        switch result {
        case let .success(secrets):
            let got = secrets.map { $0.secret.unsafeExportedBytes() }
            guard got.count == count, reference.allSatisfy({ $0 != nil }), zip(got, reference).allSatisfy({ $0 == $1 })
            else {
                violation(
                    "x25519",
                    "sharedSecrets(with:backend: .avx512ifma) returned \(got.count) secrets; libsodium: \(reference.map { $0?.hexString ?? "refused" })"
                )
            }
        case let .failure(error):
            guard error == .invalidPublicKey, reference.contains(where: { $0 == nil }) else {
                violation(
                    "x25519",
                    "sharedSecrets(with:backend: .avx512ifma) threw \(error); libsodium: \(reference.map { $0?.hexString ?? "refused" })"
                )
            }
        }
    }

    // MARK: Shaping points

    /// p = 2^255 − 19 as little-endian 64-bit words.
    static let p: [UInt64] = [0xFFFF_FFFF_FFFF_FFED, .max, .max, 0x7FFF_FFFF_FFFF_FFFF]

    /// The u-coordinates (below 2^255) that libsodium refuses: 0, 1, the two points of order 8, p − 1, p, p + 1.
    static let lowOrder: [[UInt64]] = [
        [0, 0, 0, 0],
        [1, 0, 0, 0],
        [0xAEB8_413B_7C7A_EBE0, 0x6AC4_9FF1_FAE3_5616, 0xFDB1_329C_EB8D_09DA, 0x00B8_495F_1605_6286],
        [0x248C_50A3_BC95_9C5F, 0x5BEF_839C_55B1_D0B1, 0x868E_1C58_C45C_4404, 0x5711_9FD0_DD4E_22D8],
        [0xFFFF_FFFF_FFFF_FFEC, .max, .max, 0x7FFF_FFFF_FFFF_FFFF],
        p,
        [0xFFFF_FFFF_FFFF_FFEE, .max, .max, 0x7FFF_FFFF_FFFF_FFFF],
    ]

    private static func point(_ input: inout FuzzInput, earlier: [[UInt8]]) -> [UInt8] {
        let mode = input.byte()
        var words: [UInt64]
        switch mode % 8 {
        case 0, 1:
            return input.bytes(32)
        case 2:
            words = [0, 0, 0, 0]
            for k in 0..<5 { addShifted(limb(&input), by: 51 * k, to: &words) }
        case 3:
            let delta = Int16(bitPattern: input.uint16())
            words = p
            if delta >= 0 {
                addShifted(UInt64(delta), by: 0, to: &words)
            } else {
                subtract(UInt64(-Int(delta)), from: &words)
            }
        case 4:
            words = lowOrder[Int(input.byte()) % lowOrder.count]
        case 5:
            words = [UInt64(input.uint16()), 0, 0, 0]
        case 6:
            let k = Int(input.byte())
            let delta = Int8(bitPattern: input.byte())
            words = [0, 0, 0, 0]
            addShifted(1, by: k, to: &words)
            if delta >= 0 {
                addShifted(UInt64(delta), by: 0, to: &words)
            } else {
                subtract(UInt64(-Int(delta)), from: &words)
            }
        default:
            let index = Int(input.byte())
            let position = Int(input.byte()) % 32
            let value = input.byte()
            guard !earlier.isEmpty else { return [UInt8](repeating: 0, count: 32) }
            var copy = earlier[index % earlier.count]
            copy[position] = value
            return copy
        }
        var out = littleEndianBytes(words)
        out[31] = (out[31] & 0x7F) | (mode & 0x80)
        return out
    }

    /// One radix-2^51 limb from the menu above.
    private static func limb(_ input: inout FuzzInput) -> UInt64 {
        let top: UInt64 = 1 << 51
        switch input.byte() % 16 {
        case 0: return 0
        case 1: return 1
        case 2: return 2
        case 3: return 19
        case 4: return top - 1
        case 5: return top - 2
        case 6: return top - 19
        case 7: return top - 20
        case 8: return top - 18
        case 9: return top >> 1
        case 10: return (top >> 1) - 1
        case 11: return top - (1 << UInt64(input.byte() % 51))
        case 12: return 1 << UInt64(input.byte() % 51)
        default: return input.uint64() & (top - 1)
        }
    }

    /// words += value · 2^shift (mod 2^256).
    private static func addShifted(_ value: UInt64, by shift: Int, to words: inout [UInt64]) {
        guard shift < 256 else { return }
        let index = shift / 64
        let bit = UInt64(shift % 64)
        var parts: [(Int, UInt64)] = [(index, value << bit)]
        if bit > 0, index + 1 < 4 { parts.append((index + 1, value >> (64 - bit))) }
        for (start, part) in parts {
            var carry = part
            var i = start
            while carry != 0, i < 4 {
                let (sum, overflow) = words[i].addingReportingOverflow(carry)
                words[i] = sum
                carry = overflow ? 1 : 0
                i += 1
            }
        }
    }

    /// words −= value (mod 2^256).
    private static func subtract(_ value: UInt64, from words: inout [UInt64]) {
        var borrow = value
        var i = 0
        while borrow != 0, i < 4 {
            let (difference, overflow) = words[i].subtractingReportingOverflow(borrow)
            words[i] = difference
            borrow = overflow ? 1 : 0
            i += 1
        }
    }

    static func littleEndianBytes(_ words: [UInt64]) -> [UInt8] {
        words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
    }
}
