/// A real number known to lie within `error` units of `value`, in fixed point with `scale` fractional bits:
/// |x − value / 2^scale| ≤ error / 2^scale. Every operation widens `error` by what it truncates, so results
/// are rigorous enclosures (SPEC.md §15.4). Only the rare exact paths of the Poisson sampler use it.
package struct FixedPointInterval: Sendable {
    /// The centre, in units of 2^−scale.
    package var value: BigInt
    /// The half-width, in units of 2^−scale.
    package var error: BigUInt
    /// Fractional bits.
    package let scale: Int

    /// value ± error at `scale`.
    package init(value: BigInt, error: BigUInt, scale: Int) {
        self.value = value
        self.error = error
        self.scale = scale
    }

    /// The exact integer n.
    package init(integer: Int64, scale: Int) {
        self.init(value: BigInt(integer).shiftedLeft(scale), error: .zero, scale: scale)
    }

    /// The rational p / q (q > 0), truncated: error 1.
    package init(numerator p: BigInt, denominator q: BigUInt, scale: Int) {
        self.init(value: p.shiftedLeft(scale).truncatedQuotient(q), error: .one, scale: scale)
    }

    /// The lower end, in units of 2^−scale.
    package var lowerNumerator: BigInt { value - BigInt(error) }
    /// The upper end, in units of 2^−scale.
    package var upperNumerator: BigInt { value + BigInt(error) }

    /// The sum.
    package static func + (lhs: Self, rhs: Self) -> Self {
        Self(value: lhs.value + rhs.value, error: lhs.error + rhs.error, scale: lhs.scale)
    }

    /// The difference.
    package static func - (lhs: Self, rhs: Self) -> Self {
        Self(value: lhs.value - rhs.value, error: lhs.error + rhs.error, scale: lhs.scale)
    }

    /// The product with an exact integer.
    package func multiplied(by n: BigInt) -> Self {
        Self(value: value * n, error: error * n.magnitude, scale: scale)
    }

    /// The quotient by an exact positive integer, truncated.
    package func divided(by n: BigUInt) -> Self {
        let (q, r) = error.quotientAndRemainder(dividingBy: n)
        return Self(
            value: value.truncatedQuotient(n), error: q + (r.isZero ? .zero : .one) + .one, scale: scale)
    }

    /// The product of two enclosures: |ab − a'b'| ≤ |a'|·e_b + |b'|·e_a + e_a·e_b, plus one unit truncated.
    package static func * (lhs: Self, rhs: Self) -> Self {
        let product = (lhs.value * rhs.value)
        let spread = lhs.value.magnitude * rhs.error + rhs.value.magnitude * lhs.error + lhs.error * rhs.error
        let value = BigInt(negative: product.isNegative, magnitude: product.magnitude.shiftedRight(lhs.scale))
        let error = spread.shiftedRight(lhs.scale) + .one + .one
        return Self(value: value, error: error, scale: lhs.scale)
    }
}

/// ln 2, ln n and ln Γ at any precision, as rigorous enclosures (SPEC.md §15.4).
package enum ExactLogarithm {
    /// |B_2k| as numerator / denominator, k = 1…16 (B_2 = 1/6, B_4 = −1/30, …; signs alternate, B_2 > 0).
    static let bernoulli: [(numerator: UInt64, denominator: UInt64)] = [
        (1, 6), (1, 30), (1, 42), (1, 30), (5, 66), (691, 2730), (7, 6), (3617, 510), (43867, 798),
        (174_611, 330), (854_513, 138), (236_364_091, 2730), (8_553_103, 6), (23_749_461_029, 870),
        (8_615_841_276_005, 14322), (7_709_321_041_217, 510),
    ]

    /// ln 2 = 2·atanh(1/3) = 2·Σ 3^−(2i+1)/(2i+1).
    package static func ln2(scale: Int) -> FixedPointInterval {
        var power = FixedPointInterval(numerator: BigInt(.one), denominator: BigUInt(3), scale: scale)
        var sum = power
        var i: UInt64 = 1
        while !power.value.magnitude.isZero {
            power = power.divided(by: BigUInt(9))
            sum = sum + power.divided(by: BigUInt(2 * i + 1))
            i += 1
        }
        // Tail below one unit per remaining term bound (the powers vanished): one more unit.
        sum.error = sum.error + .one
        return sum.multiplied(by: BigInt(2))
    }

    /// ln n for n ≥ 1: with n = 2^e · f, f ∈ [√½, √2), ln n = e·ln 2 + 2·atanh(s), s = (f − 1)/(f + 1).
    package static func ln(_ n: BigUInt, scale: Int, ln2 cached: FixedPointInterval? = nil) -> FixedPointInterval {
        precondition(!n.isZero, "ln 0")
        let logTwo = cached ?? ln2(scale: scale)
        // A wide n is cut to its top scale + 64 bits n' (ln n = ln n' + dropped·ln 2 + ln(n / (n'·2^dropped)),
        // the last term in [0, 2^−(scale+63))): the divisions below stay scale-sized.
        let dropped = n.bitWidth - (scale + 64)
        if dropped > 0 {
            var result =
                ln(n.shiftedRight(dropped), scale: scale, ln2: logTwo)
                + logTwo.multiplied(by: BigInt(Int64(dropped)))
            result.error = result.error + .one
            return result
        }
        var e = n.bitWidth - 1
        // f = n / 2^e ∈ [1, 2); move to [√½, √2) when f ≥ √2 (n² ≥ 2^(2e+1)).
        if !(n * n < BigUInt.powerOfTwo(2 * e + 1)) { e += 1 }
        let twoE = BigUInt.powerOfTwo(e)
        let below = n < twoE
        let difference = below ? twoE - n : n - twoE
        let exponentPart = logTwo.multiplied(by: BigInt(Int64(e)))
        if difference.isZero { return exponentPart }
        let s = FixedPointInterval(
            numerator: BigInt(negative: below, magnitude: difference), denominator: n + twoE, scale: scale)
        let square = s * s
        var power = s
        var sum = s
        var i: UInt64 = 1
        // |s| ≤ 0.172: once a power's centre is 0 the power is within its error, and every later term
        // together is below 0.031 times it: one more unit covers the tail.
        while !power.value.magnitude.isZero {
            power = power * square
            sum = sum + power.divided(by: BigUInt(2 * i + 1))
            i += 1
        }
        sum.error = sum.error + power.error + .one
        return exponentPart + sum.multiplied(by: BigInt(2))
    }

    /// The least w at which Stirling's series with B_2 … B_30 is within one unit at `scale`:
    /// |B_32| / (32·31) < 2^24, so w ≥ 2^⌈(scale + 24)/31⌉ suffices.
    package static func stirlingMinimum(scale: Int) -> UInt64 {
        let exponent = (scale + 24 + 30) / 31
        return exponent >= 63 ? UInt64(1) << 62 : UInt64(1) << UInt64(exponent)
    }

    /// ln Γ(z) − ½·ln(2π) for an integer z ≥ 1: Stirling's series with B_2 … B_30 at w = max(z, z_min) and
    /// the remainder bounded by the B_32 term, shifted down by ln(z (z+1) … (w−1)) when z < z_min.
    package static func lnGammaStar(_ z: UInt64, scale: Int, ln2 cached: FixedPointInterval? = nil)
        -> FixedPointInterval
    {
        let logTwo = cached ?? ln2(scale: scale)
        // |B_32| / (32·31) < 2^24, so w ≥ 2^⌈(scale + 24)/31⌉ puts the remainder below one unit.
        let minimum = stirlingMinimum(scale: scale)
        var w = z
        var shift = FixedPointInterval(integer: 0, scale: scale)
        if z < minimum {
            var product = BigUInt.one
            var i = z
            while i < minimum {
                product = product * BigUInt(i)
                i += 1
            }
            shift = ln(product, scale: scale, ln2: logTwo)
            w = minimum
        }
        let lnW = ln(BigUInt(w), scale: scale, ln2: logTwo)
        // (w − ½)·ln w − w.
        var result = lnW.multiplied(by: BigInt(BigUInt(2 * w - 1))).divided(by: BigUInt(2))
        result = result - FixedPointInterval(value: BigInt(BigUInt(w)).shiftedLeft(scale), error: .zero, scale: scale)
        var power = BigUInt(w)  // w^(2k−1)
        let wSquared = BigUInt(w) * BigUInt(w)
        for k in 1...15 {
            let (numerator, denominator) = bernoulli[k - 1]
            let divisor = BigUInt(denominator) * BigUInt(UInt64(2 * k * (2 * k - 1))) * power
            let term = FixedPointInterval(
                numerator: BigInt(negative: k % 2 == 0, magnitude: BigUInt(numerator)), denominator: divisor,
                scale: scale)
            result = result + term
            power = power * wSquared
        }
        result.error = result.error + .one  // the B_32 remainder
        return result - shift
    }
}
