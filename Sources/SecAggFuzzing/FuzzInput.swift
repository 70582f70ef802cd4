/// Reads structured values from fuzz input bytes. Reading past the end yields zeros, so that every input,
/// however short, describes a complete case and small mutations change it only a little.
struct FuzzInput {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Bytes not read yet.
    var remaining: Int { max(0, bytes.count - position) }

    /// The unread bytes (and the position moves to the end).
    mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }

    mutating func byte() -> UInt8 {
        defer { position += 1 }
        return position < bytes.count ? bytes[position] : 0
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in byte() }
    }

    /// A little-endian integer of `byteCount` bytes (at most 8).
    mutating func littleEndian(_ byteCount: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<byteCount { value |= UInt64(byte()) << (8 * UInt64(i)) }
        return value
    }

    mutating func uint16() -> UInt16 { UInt16(truncatingIfNeeded: littleEndian(2)) }
    mutating func uint32() -> UInt32 { UInt32(truncatingIfNeeded: littleEndian(4)) }
    mutating func uint64() -> UInt64 { littleEndian(8) }
}

/// SplitMix64: fills buffers deterministically when the input is shorter than the case it describes.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex, for violation messages.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
