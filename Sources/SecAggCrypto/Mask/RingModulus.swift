/// The ring Z_R that a vector lives in: R = 2^b for 1 ≤ b ≤ 64, or any integer 2 ≤ q ≤ 2^62.
public enum RingModulus: Hashable, Sendable, Codable {
    /// Z_{2^b}, 1 ≤ b ≤ 64.
    case powerOfTwo(bitWidth: Int)
    /// Z_q, 2 ≤ q ≤ 2^62 (any integer, prime or not).
    case integer(UInt64)

    /// The largest supported `integer` modulus.
    public static let maximumIntegerModulus: UInt64 = 1 << 62

    /// Checks the range; call on every modulus that comes from outside (configuration, wire, CLI).
    public func validate() throws(SecAggCryptoError) {
        switch self {
        case let .powerOfTwo(bitWidth):
            guard (1...64).contains(bitWidth) else {
                throw .invalidModulus(description: "bit width \(bitWidth) is outside 1...64")
            }
        case let .integer(q):
            guard q >= 2, q <= Self.maximumIntegerModulus else {
                throw .invalidModulus(description: "modulus \(q) is outside 2...2^62")
            }
        }
    }

    /// Bits needed for the largest element, bitWidth(R − 1): b for 2^b, ⌈log2 q⌉ for q.
    public var elementBitWidth: Int {
        switch self {
        case let .powerOfTwo(bitWidth): bitWidth
        case let .integer(q): UInt64.bitWidth - (q &- 1).leadingZeroBitCount  // no trap for an invalid q = 0
        }
    }

    /// Keystream word size used per candidate element: 4 bytes when `elementBitWidth` ≤ 32, else 8.
    public var wordByteCount: Int { elementBitWidth <= 32 ? 4 : 8 }

    /// The mask 2^elementBitWidth − 1 applied to each keystream word.
    public var elementMask: UInt64 {
        // Total for unvalidated moduli too (bit widths ≤ 0 or > 64), so a bad input cannot trap here.
        let bits = elementBitWidth
        if bits <= 0 { return 0 }
        return bits >= 64 ? .max : (UInt64(1) << UInt64(bits)) - 1
    }

    /// True when every value below 2^elementBitWidth is an element (no rejection needed).
    public var isPowerOfTwo: Bool {
        switch self {
        case .powerOfTwo: true
        case let .integer(q): q & (q &- 1) == 0
        }
    }

    /// The modulus as a number when it fits in 64 bits (nil for 2^64).
    public var modulusValue: UInt64? {
        switch self {
        case let .powerOfTwo(bitWidth): bitWidth >= 64 || bitWidth < 0 ? nil : UInt64(1) << UInt64(bitWidth)
        case let .integer(q): q
        }
    }

    /// True when `value` is a canonical element (< R).
    @inlinable
    public func contains(_ value: UInt64) -> Bool {
        guard let r = modulusValue else { return true }
        return value < r
    }

    /// (a + b) mod R for canonical a, b.
    @inlinable
    public func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        switch self {
        case .powerOfTwo: return (a &+ b) & elementMask
        case let .integer(q):
            let s = a &+ b
            return s >= q ? s &- q : s
        }
    }

    /// (a − b) mod R for canonical a, b.
    @inlinable
    public func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
        switch self {
        case .powerOfTwo: return (a &- b) & elementMask
        case let .integer(q): return a >= b ? a &- b : a &+ q &- b
        }
    }

    /// Reduces an arbitrary 64-bit value into the ring (for test inputs and quantized values).
    @inlinable
    public func reduce(_ value: UInt64) -> UInt64 {
        switch self {
        case .powerOfTwo: return value & elementMask
        case let .integer(q): return q == 0 ? value : value % q
        }
    }
}

extension RingModulus: CustomStringConvertible {
    /// "2^32" or "q=1000003".
    public var description: String {
        switch self {
        case let .powerOfTwo(bitWidth): "2^\(bitWidth)"
        case let .integer(q): "q=\(q)"
        }
    }
}

/// Unsigned integer types that can hold ring elements: `UInt32` (bit widths ≤ 32) and `UInt64`.
public protocol MaskScalar: FixedWidthInteger, UnsignedInteger, Sendable {}
extension UInt32: MaskScalar {}
extension UInt64: MaskScalar {}
