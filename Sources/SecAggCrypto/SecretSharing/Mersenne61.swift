/// Arithmetic in the prime field F_p, p = 2^61 − 1, without secret-dependent branches or lookups.
package enum Mersenne61 {
    /// The field prime 2^61 − 1.
    package static let prime: UInt64 = (1 << 61) - 1

    /// r − p if r ≥ p else r, for r < 2p, selected with a mask rather than a branch.
    @inlinable @inline(__always)
    static func conditionalSubtract(_ r: UInt64) -> UInt64 {
        let d = r &- prime
        let keep = UInt64(0) &- (d >> 63)  // all ones when r < p (d wrapped)
        return (r & keep) | (d & ~keep)
    }

    /// x mod p for any 64-bit x.
    @inlinable @inline(__always)
    package static func reduce(_ x: UInt64) -> UInt64 {
        conditionalSubtract((x & prime) &+ (x >> 61))
    }

    /// (a + b) mod p for a, b < p.
    @inlinable @inline(__always)
    package static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        conditionalSubtract(a &+ b)
    }

    /// (a − b) mod p for a, b < p.
    @inlinable @inline(__always)
    package static func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
        conditionalSubtract(a &+ prime &- b)
    }

    /// (a · b) mod p for a, b < p: the 122-bit product folded twice at bit 61.
    @inlinable @inline(__always)
    package static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        let folded = (low & prime) &+ ((high << 3) | (low >> 61))
        return conditionalSubtract(conditionalSubtract(folded))
    }

    /// a^(p−2) mod p, the inverse of a nonzero a. Variable time only in the (public) exponent, which is
    /// fixed; used for Lagrange coefficients whose inputs (x-coordinates) are public.
    package static func inverse(_ a: UInt64) -> UInt64 {
        var result: UInt64 = 1
        var base = a
        var exponent = prime - 2
        while exponent > 0 {
            if exponent & 1 == 1 { result = multiply(result, base) }
            base = multiply(base, base)
            exponent >>= 1
        }
        return result
    }

    /// acc · x + a, folded once at bit 61: for acc < 2^62, x < 2^32 and a < 2^62 the result is below 2^62
    /// and congruent to acc · x + a modulo p (``reduce(_:)`` makes it canonical). One step of Horner's rule
    /// at a 32-bit point (a party index) without a full reduction; no secret-dependent branch.
    @inlinable @inline(__always)
    package static func multiplyAddLoose(_ acc: UInt64, _ x: UInt64, _ a: UInt64) -> UInt64 {
        // acc · x + a < 2^94 + 2^62, so the high word is below 2^31 and the fold below 2^61 + 2^35.
        let (high, low) = acc.multipliedFullWidth(by: x)
        let (sum, carry) = low.addingReportingOverflow(a)
        let h = high &+ (carry ? 1 : 0)
        return (sum & prime) &+ ((h << 3) | (sum >> 61))
    }
}
