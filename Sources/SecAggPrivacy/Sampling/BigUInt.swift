/// An arbitrary-precision unsigned integer: the rare exact paths of the samplers (SPEC.md §15.4) need
/// numbers wider than 128 bits. Little-endian 64-bit limbs, no leading zero limbs (zero has none).
/// Schoolbook algorithms: the operands are a few thousand bits at most and the paths run with probability
/// below 2^−30 per sample.
package struct BigUInt: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Little-endian limbs without leading zeros.
    package private(set) var limbs: [UInt64]

    /// Zero.
    package static let zero = BigUInt(limbs: [])
    /// One.
    package static let one = BigUInt(1)

    private init(limbs: [UInt64]) {
        self.limbs = limbs
        normalize()
    }

    /// The value of a 64-bit integer.
    package init(_ value: UInt64) { limbs = value == 0 ? [] : [value] }

    /// The value of a 128-bit integer.
    package init(uint128 value: UInt128) {
        limbs = [UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)]
        normalize()
    }

    /// 2^exponent.
    package static func powerOfTwo(_ exponent: Int) -> BigUInt {
        var limbs = [UInt64](repeating: 0, count: exponent / 64 + 1)
        limbs[exponent / 64] = 1 << UInt64(exponent % 64)
        return BigUInt(limbs: limbs)
    }

    private mutating func normalize() {
        while let last = limbs.last, last == 0 { limbs.removeLast() }
    }

    /// True for zero.
    package var isZero: Bool { limbs.isEmpty }

    /// The number of significant bits (0 for zero).
    package var bitWidth: Int {
        guard let last = limbs.last else { return 0 }
        return limbs.count * 64 - last.leadingZeroBitCount
    }

    /// Bit `index` (0 = least significant).
    package func bit(_ index: Int) -> Bool {
        let limb = index / 64
        guard limb < limbs.count else { return false }
        return (limbs[limb] >> UInt64(index % 64)) & 1 == 1
    }

    /// The value when it fits in 64 bits.
    package var uint64Value: UInt64? {
        switch limbs.count {
        case 0: 0
        case 1: limbs[0]
        default: nil
        }
    }

    /// The value when it fits in 128 bits.
    package var uint128Value: UInt128? {
        switch limbs.count {
        case 0: 0
        case 1: UInt128(limbs[0])
        case 2: UInt128(limbs[1]) << 64 | UInt128(limbs[0])
        default: nil
        }
    }

    /// A close Float64 (for diagnostics only; never used in a decision).
    package var approximateDouble: Double {
        var result = 0.0
        for limb in limbs.reversed() { result = result * 0x1p64 + Double(limb) }
        return result
    }

    // MARK: Comparison

    /// Numeric order.
    package static func < (lhs: BigUInt, rhs: BigUInt) -> Bool {
        if lhs.limbs.count != rhs.limbs.count { return lhs.limbs.count < rhs.limbs.count }
        var i = lhs.limbs.count - 1
        while i >= 0 {
            if lhs.limbs[i] != rhs.limbs[i] { return lhs.limbs[i] < rhs.limbs[i] }
            i -= 1
        }
        return false
    }

    // MARK: Arithmetic

    /// The sum.
    package static func + (lhs: BigUInt, rhs: BigUInt) -> BigUInt {
        let count = max(lhs.limbs.count, rhs.limbs.count)
        var out = [UInt64](repeating: 0, count: count + 1)
        var carry: UInt64 = 0
        for i in 0..<count {
            let a = i < lhs.limbs.count ? lhs.limbs[i] : 0
            let b = i < rhs.limbs.count ? rhs.limbs[i] : 0
            let (s1, o1) = a.addingReportingOverflow(b)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            out[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        out[count] = carry
        return BigUInt(limbs: out)
    }

    /// The difference; `lhs` must not be smaller than `rhs` (callers compare first).
    package static func - (lhs: BigUInt, rhs: BigUInt) -> BigUInt {
        precondition(!(lhs < rhs), "BigUInt subtraction below zero")
        var out = lhs.limbs
        var borrow: UInt64 = 0
        for i in 0..<out.count {
            let b = i < rhs.limbs.count ? rhs.limbs[i] : 0
            let (d1, o1) = out[i].subtractingReportingOverflow(b)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            out[i] = d2
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return BigUInt(limbs: out)
    }

    /// The product.
    package static func * (lhs: BigUInt, rhs: BigUInt) -> BigUInt {
        if lhs.isZero || rhs.isZero { return .zero }
        var out = [UInt64](repeating: 0, count: lhs.limbs.count + rhs.limbs.count)
        for i in 0..<lhs.limbs.count {
            var carry: UInt64 = 0
            let a = lhs.limbs[i]
            for j in 0..<rhs.limbs.count {
                let (high, low) = a.multipliedFullWidth(by: rhs.limbs[j])
                let (s1, o1) = low.addingReportingOverflow(out[i + j])
                let (s2, o2) = s1.addingReportingOverflow(carry)
                out[i + j] = s2
                carry = high &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
            }
            out[i + rhs.limbs.count] = carry
        }
        return BigUInt(limbs: out)
    }

    /// The value shifted left by `count` bits.
    package func shiftedLeft(_ count: Int) -> BigUInt {
        if isZero || count == 0 { return self }
        let whole = count / 64
        let part = UInt64(count % 64)
        var out = [UInt64](repeating: 0, count: limbs.count + whole + 1)
        for i in 0..<limbs.count {
            out[i + whole] |= limbs[i] << part
            if part > 0 { out[i + whole + 1] |= limbs[i] >> (64 - part) }
        }
        return BigUInt(limbs: out)
    }

    /// The value shifted right by `count` bits (rounded down).
    package func shiftedRight(_ count: Int) -> BigUInt {
        let whole = count / 64
        guard whole < limbs.count else { return .zero }
        let part = UInt64(count % 64)
        var out = [UInt64](repeating: 0, count: limbs.count - whole)
        for i in 0..<out.count {
            out[i] = limbs[i + whole] >> part
            if part > 0, i + whole + 1 < limbs.count { out[i] |= limbs[i + whole + 1] << (64 - part) }
        }
        return BigUInt(limbs: out)
    }

    /// Quotient and remainder by a non-zero divisor (Knuth's Algorithm D).
    package func quotientAndRemainder(dividingBy divisor: BigUInt) -> (quotient: BigUInt, remainder: BigUInt) {
        precondition(!divisor.isZero, "BigUInt division by zero")
        if self < divisor { return (.zero, self) }
        if let d = divisor.uint64Value {
            var out = [UInt64](repeating: 0, count: limbs.count)
            var remainder: UInt64 = 0
            var i = limbs.count - 1
            while i >= 0 {
                let (q, r) = d.dividingFullWidth((remainder, limbs[i]))
                out[i] = q
                remainder = r
                i -= 1
            }
            return (BigUInt(limbs: out), BigUInt(remainder))
        }
        return Self.knuthDivide(limbs, divisor.limbs)
    }

    /// Knuth's Algorithm D (TAOCP 4.3.1) in base 2^64, for a divisor of at least two limbs.
    private static func knuthDivide(_ u: [UInt64], _ v: [UInt64]) -> (quotient: BigUInt, remainder: BigUInt) {
        let n = v.count
        let m = u.count - n
        let shift = UInt64(v[n - 1].leadingZeroBitCount)
        var vn = [UInt64](repeating: 0, count: n)
        for i in stride(from: n - 1, to: 0, by: -1) {
            vn[i] = (v[i] << shift) | (shift == 0 ? 0 : v[i - 1] >> (64 - shift))
        }
        vn[0] = v[0] << shift
        var un = [UInt64](repeating: 0, count: u.count + 1)
        un[u.count] = shift == 0 ? 0 : u[u.count - 1] >> (64 - shift)
        for i in stride(from: u.count - 1, to: 0, by: -1) {
            un[i] = (u[i] << shift) | (shift == 0 ? 0 : u[i - 1] >> (64 - shift))
        }
        un[0] = u[0] << shift
        var quotient = [UInt64](repeating: 0, count: m + 1)
        let top = UInt128(vn[n - 1])
        let next = UInt128(vn[n - 2])
        var j = m
        while j >= 0 {
            let numerator = UInt128(un[j + n]) << 64 | UInt128(un[j + n - 1])
            var qhat = numerator / top
            var rhat = numerator % top
            while qhat >= (UInt128(1) << 64) || qhat * next > (rhat << 64 | UInt128(un[j + n - 2])) {
                qhat -= 1
                rhat += top
                if rhat >= (UInt128(1) << 64) { break }
            }
            // un[j ..< j+n+1] −= qhat · vn.
            var borrow: UInt64 = 0
            var carry: UInt64 = 0
            let q = UInt64(qhat)
            for i in 0..<n {
                let (high, low) = q.multipliedFullWidth(by: vn[i])
                let (sum, overflow) = low.addingReportingOverflow(carry)
                carry = high &+ (overflow ? 1 : 0)
                let (d1, o1) = un[i + j].subtractingReportingOverflow(sum)
                let (d2, o2) = d1.subtractingReportingOverflow(borrow)
                un[i + j] = d2
                borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
            }
            let (d1, o1) = un[j + n].subtractingReportingOverflow(carry)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            un[j + n] = d2
            if o1 || o2 {
                // qhat was one too large: add vn back.
                quotient[j] = q &- 1
                var c: UInt64 = 0
                for i in 0..<n {
                    let (s1, a1) = un[i + j].addingReportingOverflow(vn[i])
                    let (s2, a2) = s1.addingReportingOverflow(c)
                    un[i + j] = s2
                    c = (a1 ? 1 : 0) + (a2 ? 1 : 0)
                }
                un[j + n] = un[j + n] &+ c
            } else {
                quotient[j] = q
            }
            j -= 1
        }
        var remainder = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            remainder[i] = (un[i] >> shift) | (shift == 0 ? 0 : un[i + 1] << (64 - shift))
        }
        return (BigUInt(limbs: quotient), BigUInt(limbs: remainder))
    }

    /// Decimal digits.
    package var description: String {
        if isZero { return "0" }
        var parts: [String] = []
        var rest = self
        let chunk = BigUInt(1_000_000_000_000_000_000)
        while !rest.isZero {
            let (q, r) = rest.quotientAndRemainder(dividingBy: chunk)
            parts.append(String(r.uint64Value ?? 0))
            rest = q
        }
        var text = parts.removeLast()
        for part in parts.reversed() { text += String(repeating: "0", count: 18 - part.count) + part }
        return text
    }

    /// Parses decimal digits.
    package init?(decimal text: String) {
        guard !text.isEmpty else { return nil }
        var value = BigUInt.zero
        let ten = BigUInt(10)
        for character in text {
            guard let digit = character.wholeNumberValue, character.isASCII else { return nil }
            value = value * ten + BigUInt(UInt64(digit))
        }
        self = value
    }
}

/// A signed arbitrary-precision integer (sign and magnitude), for the fixed-point intervals of §15.4.
package struct BigInt: Hashable, Sendable, Comparable {
    /// True when the value is below zero (never for zero).
    package private(set) var isNegative: Bool
    /// |value|.
    package private(set) var magnitude: BigUInt

    /// Zero.
    package static let zero = BigInt(BigUInt.zero)

    /// A non-negative value.
    package init(_ magnitude: BigUInt) {
        self.magnitude = magnitude
        isNegative = false
    }

    /// The value with the given sign (normalized so zero is non-negative).
    package init(negative: Bool, magnitude: BigUInt) {
        self.magnitude = magnitude
        isNegative = negative && !magnitude.isZero
    }

    /// The value of a 64-bit signed integer.
    package init(_ value: Int64) {
        self.init(negative: value < 0, magnitude: BigUInt(value.magnitude))
    }

    /// Numeric order.
    package static func < (lhs: BigInt, rhs: BigInt) -> Bool {
        switch (lhs.isNegative, rhs.isNegative) {
        case (true, false): true
        case (false, true): false
        case (false, false): lhs.magnitude < rhs.magnitude
        case (true, true): rhs.magnitude < lhs.magnitude
        }
    }

    /// The negation.
    package static prefix func - (value: BigInt) -> BigInt {
        BigInt(negative: !value.isNegative, magnitude: value.magnitude)
    }

    /// The sum.
    package static func + (lhs: BigInt, rhs: BigInt) -> BigInt {
        if lhs.isNegative == rhs.isNegative {
            return BigInt(negative: lhs.isNegative, magnitude: lhs.magnitude + rhs.magnitude)
        }
        if lhs.magnitude < rhs.magnitude {
            return BigInt(negative: rhs.isNegative, magnitude: rhs.magnitude - lhs.magnitude)
        }
        return BigInt(negative: lhs.isNegative, magnitude: lhs.magnitude - rhs.magnitude)
    }

    /// The difference.
    package static func - (lhs: BigInt, rhs: BigInt) -> BigInt { lhs + -rhs }

    /// The product.
    package static func * (lhs: BigInt, rhs: BigInt) -> BigInt {
        BigInt(negative: lhs.isNegative != rhs.isNegative, magnitude: lhs.magnitude * rhs.magnitude)
    }

    /// The value shifted left (multiplied by 2^count).
    package func shiftedLeft(_ count: Int) -> BigInt {
        BigInt(negative: isNegative, magnitude: magnitude.shiftedLeft(count))
    }

    /// The quotient by a positive divisor, rounded toward zero.
    package func truncatedQuotient(_ divisor: BigUInt) -> BigInt {
        BigInt(negative: isNegative, magnitude: magnitude.quotientAndRemainder(dividingBy: divisor).quotient)
    }
}
