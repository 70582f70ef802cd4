/// Arithmetic in the prime field F_p, p = 2^61 − 1, without secret-dependent branches or lookups.
public enum Mersenne61 {
    /// The field prime 2^61 − 1.
    public static let prime: UInt64 = (1 << 61) - 1

    /// r − p if r ≥ p else r, for r < 2p, selected with a mask rather than a branch.
    @inlinable @inline(__always)
    static func conditionalSubtract(_ r: UInt64) -> UInt64 {
        let d = r &- prime
        let keep = UInt64(0) &- (d >> 63)  // all ones when r < p (d wrapped)
        return (r & keep) | (d & ~keep)
    }

    /// x mod p for any 64-bit x.
    @inlinable @inline(__always)
    public static func reduce(_ x: UInt64) -> UInt64 {
        conditionalSubtract((x & prime) &+ (x >> 61))
    }

    /// (a + b) mod p for a, b < p.
    @inlinable @inline(__always)
    public static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        conditionalSubtract(a &+ b)
    }

    /// (a − b) mod p for a, b < p.
    @inlinable @inline(__always)
    public static func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
        conditionalSubtract(a &+ prime &- b)
    }

    /// (a · b) mod p for a, b < p: the 122-bit product folded twice at bit 61.
    @inlinable @inline(__always)
    public static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        let folded = (low & prime) &+ ((high << 3) | (low >> 61))
        return conditionalSubtract(conditionalSubtract(folded))
    }

    /// a^(p−2) mod p, the inverse of a nonzero a. Variable time only in the (public) exponent, which is
    /// fixed; used for Lagrange coefficients whose inputs (x-coordinates) are public.
    public static func inverse(_ a: UInt64) -> UInt64 {
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

    /// Σ a[i] · b[i] mod p for field elements a[i], b[i] < p. Products (< 2^122) are summed in 128 bits and
    /// folded every 8 terms (8 · 2^122 < 2^125 keeps the high word below 2^61), without secret-dependent
    /// branches.
    @inlinable
    public static func dotProduct(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, count: Int) -> UInt64 {
        var total: UInt64 = 0
        var i = 0
        while i < count {
            let end = min(i + 8, count)
            var high: UInt64 = 0
            var low: UInt64 = 0
            while i < end {
                let (h, l) = a[i].multipliedFullWidth(by: b[i])
                let (sum, carry) = low.addingReportingOverflow(l)
                low = sum
                high = high &+ h &+ (carry ? 1 : 0)
                i += 1
            }
            // v = high · 2^64 + low < 2^125; 2^61 ≡ 1, so v ≡ (v mod 2^61) + ⌊v / 2^61⌋.
            let upper = (high << 3) | (low >> 61)
            total = add(total, add(reduce(low & prime), reduce(upper)))
        }
        return total
    }
}
