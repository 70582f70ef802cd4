import SecAggCrypto
import SecureAggregation

/// `bitpacking`: SPEC.md §8 on arbitrary input.
///
/// Input: a 16-byte header that picks the modulus and the element count, then the payload (header bytes
/// past the end read as zero):
/// - byte 0, modulus kind (mod 4): 0 = 2^b with b = byte 1 (0...255, so invalid widths too); 1 = Z_q with
///   q = LE64 of bytes 2..<10 (any value); 2 = Z_q with q = 2^(byte 1 mod 64) + Int16(LE bytes 2..<4)
///   (near powers of two); 3 = 2^b with b = byte 1 mod 64 + 1 (always valid);
/// - bytes 10..<14: the count as a signed LE32;
/// - byte 14, count mode (mod 4): 0 = as given; 1 = the most elements the payload holds, ⌊8·len / w⌋ (so
///   that the count rarely mismatches); 2 = Int.max − (count mod 1024); 3 = ⌈8·len / w⌉;
/// - byte 15: bit 0 also packs the payload read as LE64 words (reduced into the ring, and unreduced).
///
/// Properties: `unpack` throws exactly the error SPEC.md §8 prescribes (checked against a bit-by-bit
/// reference decoder), or returns `count` elements below R that pack back to exactly the payload (strict
/// decoding); arrays, slices and non-contiguous collections decode alike; packing canonical elements
/// equals the bit-by-bit reference and unpacks back; packing a non-canonical element throws
/// `elementOutOfRange` for the first one and leaves an `into:` buffer unchanged.
enum BitPackingTarget {
    static let target = FuzzTarget(
        name: "bitpacking",
        summary: "BitPacking.unpack strict decoding and pack/unpack round trips against a bitwise reference",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let kind = input.byte() % 4
        let b1 = input.byte()
        let qBytes = input.bytes(8)
        let modulus: RingModulus
        switch kind {
        case 0: modulus = .powerOfTwo(bitWidth: Int(b1))
        case 1: modulus = .integer(qBytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        case 2:
            let delta = Int16(bitPattern: UInt16(qBytes[0]) | UInt16(qBytes[1]) << 8)
            modulus = .integer((UInt64(1) << UInt64(b1 % 64)) &+ UInt64(bitPattern: Int64(delta)))
        default: modulus = .powerOfTwo(bitWidth: Int(b1 % 64) + 1)
        }
        let rawCount = Int(Int32(bitPattern: input.uint32()))
        let countMode = input.byte() % 4
        let flags = input.byte()
        let payload = input.rest()
        let valid = (try? modulus.validate()) != nil
        let width = valid ? modulus.elementBitWidth : 1
        let count: Int
        switch countMode {
        case 0: count = rawCount
        case 1: count = payload.count * 8 / width
        case 2: count = Int.max - abs(rawCount % 1024)
        default: count = (payload.count * 8 + width - 1) / width
        }
        checkUnpack(payload, count: count, modulus: modulus, valid: valid)
        if flags & 1 != 0, valid {
            checkPack(payload, modulus: modulus)
        }
    }

    // MARK: Unpacking

    private static func checkUnpack(_ payload: [UInt8], count: Int, modulus: RingModulus, valid: Bool) {
        let result = Result { () throws(BitPackingError) in
            try BitPacking.unpack(payload, count: count, modulus: modulus)
        }
        let expected = expectedUnpack(payload, count: count, modulus: modulus, valid: valid)
        guard same(result, expected) else {
            violation(
                "bitpacking",
                "unpack(\(payload.count) bytes, count \(count), \(modulus)) gave \(summary(result)), SPEC.md §8 says \(summary(expected))"
            )
        }
        // Other collection types decode the same: a slice not starting at 0, and a non-contiguous view.
        let prefixed = [0xA5] + payload
        let slice = Result { () throws(BitPackingError) in
            try BitPacking.unpack(prefixed[1...], count: count, modulus: modulus)
        }
        let lazy = Result { () throws(BitPackingError) in
            try BitPacking.unpack(payload.lazy.map { $0 }, count: count, modulus: modulus)
        }
        guard same(slice, result), same(lazy, result) else {
            violation("bitpacking", "unpack of a slice or a non-contiguous collection differs from the array's")
        }
        guard case let .success(elements) = result else { return }
        let packed: [UInt8]
        do {
            packed = try BitPacking.pack(elements, modulus: modulus)
        } catch {
            violation("bitpacking", "pack refuses elements unpack returned (\(modulus)): \(error)")
        }
        guard packed == payload else {
            violation(
                "bitpacking",
                "strict decoding broken: \(payload.hexString) unpacks (\(modulus), count \(count)) to elements that pack to \(packed.hexString)"
            )
        }
    }

    /// What SPEC.md §8 prescribes, computed bit by bit.
    private static func expectedUnpack(_ payload: [UInt8], count: Int, modulus: RingModulus, valid: Bool)
        -> Result<[UInt64], BitPackingError>
    {
        guard valid else {
            // The exact description text is the crypto module's; only the case is prescribed.
            return .failure(.invalidModulus(description: ""))
        }
        guard count >= 0 else { return .failure(.invalidElementCount(count: count)) }
        let width = modulus.elementBitWidth
        // ⌈count · w / 8⌉ in 128 bits; a size that no Int can hold is "too large to address".
        let wideBytes = (UInt128(count) * UInt128(width) + 7) / 8
        guard wideBytes < UInt128(Int.max) else { return .failure(.invalidElementCount(count: count)) }
        let expectedBytes = Int(wideBytes)
        guard payload.count == expectedBytes else {
            return .failure(.packedByteCountMismatch(actual: payload.count, expected: expectedBytes))
        }
        let bits = count * width
        for bit in bits..<(8 * payload.count) where payload[bit / 8] >> UInt8(bit % 8) & 1 != 0 {
            return .failure(.nonzeroPadding)
        }
        var elements: [UInt64] = []
        elements.reserveCapacity(count)
        for i in 0..<count {
            var value: UInt64 = 0
            for j in 0..<width {
                let bit = i * width + j
                value |= UInt64(payload[bit / 8] >> UInt8(bit % 8) & 1) << UInt64(j)
            }
            if let r = modulus.modulusValue, value >= r {
                return .failure(.elementOutOfRange(index: i, modulus: modulus))
            }
            elements.append(value)
        }
        return .success(elements)
    }

    private static func same(_ a: Result<[UInt64], BitPackingError>, _ b: Result<[UInt64], BitPackingError>) -> Bool {
        switch (a, b) {
        case let (.success(x), .success(y)): return x == y
        case (.failure(.invalidModulus), .failure(.invalidModulus)): return true
        case let (.failure(x), .failure(y)): return x == y
        default: return false
        }
    }

    private static func summary(_ r: Result<[UInt64], BitPackingError>) -> String {
        switch r {
        case let .success(elements): "\(elements.count) elements \(elements.prefix(8))"
        case let .failure(error): "error \(error)"
        }
    }

    // MARK: Packing

    private static func checkPack(_ payload: [UInt8], modulus: RingModulus) {
        var words: [UInt64] = []
        var i = 0
        while i + 8 <= payload.count {
            words.append((0..<8).reduce(UInt64(0)) { $0 | UInt64(payload[i + $1]) << (8 * UInt64($1)) })
            i += 8
        }
        let reduced = words.map { modulus.reduce($0) }
        let packed: [UInt8]
        do {
            packed = try BitPacking.pack(reduced, modulus: modulus)
        } catch {
            violation("bitpacking", "pack refuses canonical elements of \(modulus): \(error)")
        }
        let reference = referencePack(reduced, width: modulus.elementBitWidth)
        guard packed == reference else {
            violation(
                "bitpacking",
                "pack(\(reduced.prefix(8)), \(modulus)) = \(packed.hexString), bit by bit \(reference.hexString)")
        }
        var appended: [UInt8] = [0x5A, 0xC3]
        do {
            try BitPacking.pack(reduced, modulus: modulus, into: &appended)
        } catch {
            violation("bitpacking", "pack(into:) refuses canonical elements of \(modulus): \(error)")
        }
        guard appended == [0x5A, 0xC3] + reference else {
            violation("bitpacking", "pack(into:) differs from pack for \(modulus)")
        }
        guard let back = try? BitPacking.unpack(packed, count: reduced.count, modulus: modulus), back == reduced else {
            violation("bitpacking", "unpack(pack(x)) != x for \(reduced.count) elements of \(modulus)")
        }
        // Unreduced words: the first element ≥ R is reported and an `into:` buffer is left unchanged.
        let firstBad = modulus.modulusValue.flatMap { r in words.firstIndex { $0 >= r } }
        let direct = Result { () throws(BitPackingError) in try BitPacking.pack(words, modulus: modulus) }
        var buffer: [UInt8] = [0x5A, 0xC3]
        let into = Result { () throws(BitPackingError) in try BitPacking.pack(words, modulus: modulus, into: &buffer)
        }
        if let firstBad {
            let error = BitPackingError.elementOutOfRange(index: firstBad, modulus: modulus)
            guard case .failure(error) = direct, case .failure(error) = into, buffer == [0x5A, 0xC3] else {
                violation(
                    "bitpacking",
                    "packing \(words.count) words with element \(firstBad) ≥ R (\(modulus)) did not throw \(error) cleanly"
                )
            }
        } else {
            guard case let .success(bytes) = direct, bytes == reference, case .success = into,
                buffer == [0x5A, 0xC3] + reference
            else {
                violation("bitpacking", "packing canonical words of \(modulus) failed or differs")
            }
        }
    }

    /// Σ v_i · 2^(i·w) as little-endian bytes, one bit at a time.
    private static func referencePack(_ values: [UInt64], width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (values.count * width + 7) / 8)
        for (i, v) in values.enumerated() {
            for j in 0..<width where (v >> UInt64(j)) & 1 == 1 {
                let bit = i * width + j
                out[bit / 8] |= UInt8(1) << UInt8(bit % 8)
            }
        }
        return out
    }
}
