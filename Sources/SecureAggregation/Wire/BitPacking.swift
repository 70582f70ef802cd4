package import SecAggCrypto

/// Bit-packed wire encoding of ring vectors (SPEC.md §8).
///
/// Each element takes w = `modulus.elementBitWidth` bits. The packed string is the little-endian
/// integer Σ v_i · 2^(i·w): bit j of element i is bit (i·w + j) mod 8 of byte ⌊(i·w + j) / 8⌋, and the
/// unused high bits of the last byte are zero. Byte-aligned widths (8, 16, 32, 64) are therefore plain
/// little-endian arrays.
///
/// The wire format's packing layer: ``WireFormat`` maps its ``BitPackingError``s to ``WireFormatError``.
package enum BitPacking {
    /// Bytes for `count` elements at `modulus.elementBitWidth` bits each (last byte zero-padded):
    /// ⌈count · w / 8⌉. Returns 0 for a non-positive count and `Int.max` when the size overflows.
    package static func packedByteCount(count: Int, modulus: RingModulus) -> Int {
        guard count > 0 else { return 0 }
        let width = modulus.elementBitWidth
        // count/8 whole groups of 8 elements take `width` bytes each; the remainder rounds up.
        let (groups, groupsOverflow) = (count / 8).multipliedReportingOverflow(by: width)
        let remainder = ((count % 8) * width + 7) / 8
        let (total, totalOverflow) = groups.addingReportingOverflow(remainder)
        return groupsOverflow || totalOverflow ? Int.max : total
    }

    /// Packs canonical elements (each < R) into ⌈count · w / 8⌉ bytes.
    package static func pack(_ values: [UInt64], modulus: RingModulus) throws(BitPackingError) -> [UInt8] {
        try validate(modulus)
        let byteCount = packedByteCount(count: values.count, modulus: modulus)
        // 8 bytes of slack let the general path store whole 64-bit words.
        var largest: UInt64 = 0
        let out = [UInt8](unsafeUninitializedCapacity: byteCount + 8) { buffer, initialized in
            if let base = buffer.baseAddress {
                base.initialize(repeating: 0, count: byteCount + 8)
                largest = packKernel(values, width: modulus.elementBitWidth, into: UnsafeMutableRawPointer(base))
            }
            initialized = byteCount
        }
        if let r = modulus.modulusValue, largest >= r, let index = values.firstIndex(where: { $0 >= r }) {
            throw .elementOutOfRange(index: index, modulus: modulus)
        }
        return out
    }

    /// Appends the packed encoding of `values` to `out`; on error `out` is left unchanged.
    package static func pack(_ values: [UInt64], modulus: RingModulus, into out: inout [UInt8])
        throws(BitPackingError)
    {
        try validate(modulus)
        let byteCount = packedByteCount(count: values.count, modulus: modulus)
        guard byteCount > 0 else { return }
        let start = out.count
        let slack = 8
        out.append(contentsOf: repeatElement(0, count: byteCount + slack))
        let largest = out.withUnsafeMutableBytes { raw -> UInt64 in
            guard let base = raw.baseAddress else { return 0 }
            return packKernel(values, width: modulus.elementBitWidth, into: base + start)
        }
        out.removeLast(slack)
        if let r = modulus.modulusValue, largest >= r, let index = values.firstIndex(where: { $0 >= r }) {
            out.removeLast(byteCount)
            throw .elementOutOfRange(index: index, modulus: modulus)
        }
    }

    /// Unpacks exactly `count` elements. Strict: the input must be exactly `packedByteCount` bytes, the
    /// padding bits zero and every element < R.
    package static func unpack(_ bytes: some Collection<UInt8>, count: Int, modulus: RingModulus)
        throws(BitPackingError) -> [UInt64]
    {
        try validate(modulus)
        guard count >= 0 else { throw .invalidElementCount(count: count) }
        let expected = packedByteCount(count: count, modulus: modulus)
        guard expected != Int.max else { throw .invalidElementCount(count: count) }
        guard bytes.count == expected else {
            throw .packedByteCountMismatch(actual: bytes.count, expected: expected)
        }
        guard count > 0 else { return [] }
        let width = modulus.elementBitWidth
        let usedBits = (count % 8) * width % 8
        let decoded = bytes.withContiguousStorageIfAvailable { source in
            unpackContiguous(UnsafeRawBufferPointer(source), count: count, width: width, usedBits: usedBits)
        }
        let result: [UInt64]?
        if let decoded {
            result = decoded
        } else {
            result = Array(bytes).withUnsafeBytes {
                unpackContiguous($0, count: count, width: width, usedBits: usedBits)
            }
        }
        guard let result else { throw .nonzeroPadding }
        // Widths are masked on unpack, so only a non-power-of-two Z_q can hold values ≥ q.
        if !modulus.isPowerOfTwo, let index = firstOutOfRange(result, modulus: modulus) {
            throw .elementOutOfRange(index: index, modulus: modulus)
        }
        return result
    }

    // MARK: Internals

    /// Decodes `count` elements from exactly `packedByteCount` bytes; nil when the padding is non-zero.
    private static func unpackContiguous(_ source: UnsafeRawBufferPointer, count: Int, width: Int, usedBits: Int)
        -> [UInt64]?
    {
        guard let base = source.baseAddress else { return nil }
        if usedBits != 0, source[source.count - 1] >> UInt8(usedBits) != 0 {
            return nil
        }
        return [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            switch width {
            case 8: unpackAligned(base, UInt8.self, into: buffer)
            case 16: unpackAligned(base, UInt16.self, into: buffer)
            case 32: unpackAligned(base, UInt32.self, into: buffer)
            case 64: unpackAligned(base, UInt64.self, into: buffer)
            default:
                // Elements whose 9-byte window lies inside the input are read in place; the last few
                // from a zero-padded copy of the tail.
                let directCount = source.count >= 9 ? min(count, (source.count - 9) * 8 / width + 1) : 0
                let head = UnsafeMutableBufferPointer(rebasing: buffer[0..<directCount])
                unpackGeneral(base, width: width, into: head)
                if directCount < count {
                    let firstBit = directCount * width
                    let tailStart = firstBit / 8
                    var tail = [UInt8](repeating: 0, count: source.count - tailStart + 16)
                    for i in tailStart..<source.count { tail[i - tailStart] = source[i] }
                    let rest = UnsafeMutableBufferPointer(rebasing: buffer[directCount..<count])
                    tail.withUnsafeBytes { t in
                        if let tailBase = t.baseAddress {
                            unpackGeneral(tailBase, width: width, into: rest, firstBitPosition: firstBit % 8)
                        }
                    }
                }
            }
            initialized = count
        }
    }

    private static func validate(_ modulus: RingModulus) throws(BitPackingError) {
        do {
            try modulus.validate()
        } catch {
            throw .invalidModulus(description: error.description)
        }
    }

    /// Packs into zeroed memory with 8 bytes of slack; returns the largest element for the range check.
    private static func packKernel(_ values: [UInt64], width: Int, into destination: UnsafeMutableRawPointer)
        -> UInt64
    {
        values.withUnsafeBufferPointer { source in
            switch width {
            case 8: packAligned(source, UInt8.self, into: destination)
            case 16: packAligned(source, UInt16.self, into: destination)
            case 32: packAligned(source, UInt32.self, into: destination)
            case 64: packAligned(source, UInt64.self, into: destination)
            default: packGeneral(source, width: width, into: destination)
            }
        }
    }

    /// The index of the first element ≥ R, or nil. The common case runs branch-free.
    static func firstOutOfRange(_ values: [UInt64], modulus: RingModulus) -> Int? {
        guard let r = modulus.modulusValue else { return nil }
        var largest: UInt64 = 0
        values.withUnsafeBufferPointer { buffer in
            for v in buffer { largest = max(largest, v) }
        }
        guard largest >= r else { return nil }
        return values.firstIndex { $0 >= r }
    }

    @inline(__always)
    private static func packAligned<T: FixedWidthInteger & UnsignedInteger>(
        _ source: UnsafeBufferPointer<UInt64>, _: T.Type, into destination: UnsafeMutableRawPointer
    ) -> UInt64 {
        let size = MemoryLayout<T>.size
        var largest: UInt64 = 0
        for i in 0..<source.count {
            let v = source[i]
            largest = max(largest, v)
            destination.storeBytes(of: T(truncatingIfNeeded: v).littleEndian, toByteOffset: i * size, as: T.self)
        }
        return largest
    }

    @inline(__always)
    private static func unpackAligned<T: FixedWidthInteger & UnsignedInteger>(
        _ source: UnsafeRawPointer, _: T.Type, into destination: UnsafeMutableBufferPointer<UInt64>
    ) {
        guard let base = destination.baseAddress else { return }
        let size = MemoryLayout<T>.size
        for i in 0..<destination.count {
            let word = source.loadUnaligned(fromByteOffset: i * size, as: T.self)
            (base + i).initialize(to: UInt64(T(littleEndian: word)))
        }
    }

    /// A 64-bit accumulator flushed as one little-endian word whenever it fills; `destination` must
    /// have 8 bytes of slack beyond the packed size.
    private static func packGeneral(
        _ source: UnsafeBufferPointer<UInt64>, width: Int, into destination: UnsafeMutableRawPointer
    ) -> UInt64 {
        var largest: UInt64 = 0
        var accumulator: UInt64 = 0
        var bits = 0
        var offset = 0
        for v in source {
            largest = max(largest, v)
            accumulator |= v &<< UInt64(bits)
            let total = bits + width
            if total >= 64 {
                destination.storeBytes(of: accumulator.littleEndian, toByteOffset: offset, as: UInt64.self)
                offset += 8
                // The bits of v that did not fit (none when bits == 0: v was stored whole).
                accumulator = bits == 0 ? 0 : v &>> UInt64(64 - bits)
                bits = total - 64
            } else {
                bits = total
            }
        }
        if bits > 0 {
            destination.storeBytes(of: accumulator.littleEndian, toByteOffset: offset, as: UInt64.self)
        }
        return largest
    }

    /// One unaligned 64-bit load (plus one byte for widths above 57) per element at its starting byte;
    /// the caller guarantees 9 readable bytes from each element's first byte.
    private static func unpackGeneral(
        _ source: UnsafeRawPointer, width: Int, into destination: UnsafeMutableBufferPointer<UInt64>,
        firstBitPosition: Int = 0
    ) {
        guard let base = destination.baseAddress else { return }
        let mask: UInt64 = width >= 64 ? .max : (1 << UInt64(width)) - 1
        var bitPosition = firstBitPosition
        if width <= 57 {
            for i in 0..<destination.count {
                let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: bitPosition >> 3, as: UInt64.self))
                (base + i).initialize(to: (word &>> UInt64(bitPosition & 7)) & mask)
                bitPosition += width
            }
        } else {
            for i in 0..<destination.count {
                let byte = bitPosition >> 3
                let shift = UInt64(bitPosition & 7)
                let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
                var value = word &>> shift
                if shift > 0 {
                    value |= UInt64(source.load(fromByteOffset: byte + 8, as: UInt8.self)) &<< (64 - shift)
                }
                (base + i).initialize(to: value & mask)
                bitPosition += width
            }
        }
    }
}

/// Why ``BitPacking`` refused a vector or its encoding. Payloads carry sizes and indices, never elements.
package enum BitPackingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An element is not a canonical ring element (≥ R).
    case elementOutOfRange(index: Int, modulus: RingModulus)
    /// A packed vector has the wrong number of bytes (short input or trailing bytes).
    case packedByteCountMismatch(actual: Int, expected: Int)
    /// The padding bits after the last element of a packed vector are not zero.
    case nonzeroPadding
    /// An element count is negative or too large to address.
    case invalidElementCount(count: Int)
    /// The modulus is outside the supported range.
    case invalidModulus(description: String)

    /// One line, no vector contents.
    package var description: String {
        switch self {
        case let .elementOutOfRange(index, modulus):
            "element \(index) is not below the modulus \(modulus)"
        case let .packedByteCountMismatch(actual, expected):
            "packed vector has \(actual) bytes, expected exactly \(expected)"
        case .nonzeroPadding:
            "packed vector has non-zero padding bits"
        case let .invalidElementCount(count):
            "invalid element count \(count)"
        case let .invalidModulus(description):
            "invalid modulus: \(description)"
        }
    }
}
