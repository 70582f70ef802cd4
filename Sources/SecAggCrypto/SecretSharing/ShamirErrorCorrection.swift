/// Reconstruction that survives wrong shares (SPEC.md §6.5): shares are codewords of a Reed–Solomon code (the
/// values of a polynomial of degree < t at the parties' x-coordinates), so up to ⌊(m − t)/2⌋ wrong shares
/// among m are corrected by Gao's decoder, one chunk at a time. A caller that can recognise the right secret
/// (a commitment, a public key) also gets one wrong share corrected among exactly t + 1, by leaving each
/// share out in turn.
///
/// Shares revealed to the server are meant for it, so this path is variable time; it runs only when the
/// ordinary reconstruction (``ShamirReconstructor``) failed or produced a secret the caller rejects.
extension ShamirSecretSharing {
    /// A secret that `isValid` accepts, and the x-coordinates of the shares that disagree with it; nil when
    /// neither decoding with errors nor leaving one share out yields such a secret. Shares must have distinct
    /// nonzero x-coordinates and ⌈secretByteCount / 7⌉ values each (others make the result nil).
    public static func reconstructCorrectingErrors(
        _ shares: [ShamirShare], threshold t: Int, secretByteCount: Int, isValid: (SecretBytes) -> Bool
    ) -> (secret: SecretBytes, faultyShares: [UInt32])? {
        let chunks = chunkCount(secretByteCount: secretByteCount)
        guard t >= 1, shares.count >= t, chunks > 0, shares.allSatisfy({ $0.chunkCount == chunks }),
            (try? checkCoordinates(shares.map(\.x))) != nil
        else { return nil }
        if let decoded = gaoDecode(shares, threshold: t, secretByteCount: secretByteCount), isValid(decoded.secret) {
            return decoded
        }
        // One wrong share among exactly t + 1 cannot be located by decoding alone, but a verifiable secret can:
        // every subset without one share is an ordinary reconstruction.
        guard shares.count > t else { return nil }
        for left in shares.indices {
            var subset = shares
            let removed = subset.remove(at: left)
            if let secret = try? reconstruct(subset, threshold: t, secretByteCount: secretByteCount), isValid(secret) {
                return (secret, [removed.x])
            }
        }
        return nil
    }

    /// Gao's decoder (2003) per chunk: the unique polynomial of degree < t that agrees with all but at most
    /// ⌊(m − t)/2⌋ shares, or nil. The faulty shares are those that disagree in any chunk.
    static func gaoDecode(_ shares: [ShamirShare], threshold t: Int, secretByteCount: Int)
        -> (secret: SecretBytes, faultyShares: [UInt32])?
    {
        let m = shares.count
        let chunks = chunkCount(secretByteCount: secretByteCount)
        let xs = shares.map { UInt64($0.x) }
        // g0 = Π (X − x_i), and the barycentric weights w_i = 1 / Π_{j≠i} (x_i − x_j).
        var g0: [UInt64] = [1]
        for x in xs { g0 = Poly.multiply(g0, [Mersenne61.subtract(0, x), 1]) }
        var denominators = [UInt64](repeating: 1, count: m)
        for i in 0..<m {
            for j in 0..<m where j != i {
                denominators[i] = Mersenne61.multiply(denominators[i], Mersenne61.subtract(xs[i], xs[j]))
            }
        }
        let weights = denominators.map { Mersenne61.inverse($0) }
        // g1 per chunk: the interpolating polynomial Σ y_i w_i · g0 / (X − x_i), degree < m.
        // The interpolating polynomials and everything derived from them carry the shares' information: zeroise
        // them when done, as the ordinary reconstruction does with its buffers.
        var g1 = [[UInt64]](repeating: [UInt64](repeating: 0, count: m), count: chunks)
        defer { for j in g1.indices { secureZero(&g1[j]) } }
        for i in 0..<m {
            let quotient = Poly.divideByLinear(g0, root: xs[i])
            for j in 0..<chunks {
                let scale = Mersenne61.multiply(shares[i].value(j), weights[i])
                for (d, c) in quotient.enumerated() {
                    g1[j][d] = Mersenne61.add(g1[j][d], Mersenne61.multiply(scale, c))
                }
            }
        }
        var faulty = Set<UInt32>()
        var values: [UInt64] = []
        defer { secureZero(&values) }
        for j in 0..<chunks {
            // Extended Euclid on (g0, g1) until the remainder has degree < (m + t)/2.
            var r0 = g0
            var r1 = Poly.trimmed(g1[j])
            var v0: [UInt64] = []
            var v1: [UInt64] = [1]
            while 2 * Poly.degree(r1) >= m + t {
                let (q, r) = Poly.divide(r0, by: r1)
                (r0, r1) = (r1, r)
                (v0, v1) = (v1, Poly.subtract(v0, Poly.multiply(q, v1)))
            }
            var (f, remainder) = Poly.divide(r1, by: v1)
            defer {
                secureZero(&f)
                secureZero(&r0)
                secureZero(&r1)
            }
            guard remainder.isEmpty, Poly.degree(f) < t else { return nil }
            for (i, x) in xs.enumerated() where Poly.evaluate(f, at: x) != shares[i].value(j) {
                faulty.insert(shares[i].x)
            }
            values.append(f.first ?? 0)
        }
        var fits = true
        let secret = SecretBytes(byteCount: secretByteCount) { out in
            for (j, value) in values.enumerated() {
                let start = j * chunkByteCount
                let end = min(start + chunkByteCount, secretByteCount)
                fits = fits && (value >> UInt64(8 * (end - start))) == 0
                for k in start..<end { out[k] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (k - start))) }
            }
        }
        return fits ? (secret, faulty.sorted()) : nil
    }
}

/// Dense polynomials over F_p, p = 2^61 − 1: coefficients from degree 0 up, no trailing zeros (the zero
/// polynomial is empty).
enum Poly {
    static func trimmed(_ a: [UInt64]) -> [UInt64] {
        var a = a
        while let last = a.last, last == 0 { a.removeLast() }
        return a
    }

    /// The degree; −1 for the zero polynomial.
    static func degree(_ a: [UInt64]) -> Int { a.count - 1 }

    static func subtract(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: max(a.count, b.count))
        for i in out.indices {
            out[i] = Mersenne61.subtract(i < a.count ? a[i] : 0, i < b.count ? b[i] : 0)
        }
        return trimmed(out)
    }

    static func multiply(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        guard !a.isEmpty, !b.isEmpty else { return [] }
        var out = [UInt64](repeating: 0, count: a.count + b.count - 1)
        for (i, x) in a.enumerated() where x != 0 {
            for (j, y) in b.enumerated() { out[i + j] = Mersenne61.add(out[i + j], Mersenne61.multiply(x, y)) }
        }
        return trimmed(out)
    }

    /// (quotient, remainder) of a / b for a nonzero b.
    static func divide(_ a: [UInt64], by b: [UInt64]) -> (quotient: [UInt64], remainder: [UInt64]) {
        guard let lead = b.last, lead != 0 else { return ([], a) }
        var remainder = a
        guard remainder.count >= b.count else { return ([], trimmed(remainder)) }
        let inverseLead = Mersenne61.inverse(lead)
        var quotient = [UInt64](repeating: 0, count: remainder.count - b.count + 1)
        for shift in stride(from: quotient.count - 1, through: 0, by: -1) {
            let coefficient = Mersenne61.multiply(remainder[shift + b.count - 1], inverseLead)
            quotient[shift] = coefficient
            guard coefficient != 0 else { continue }
            for (k, y) in b.enumerated() {
                remainder[shift + k] = Mersenne61.subtract(remainder[shift + k], Mersenne61.multiply(coefficient, y))
            }
        }
        return (trimmed(quotient), trimmed(remainder))
    }

    /// a / (X − root) for a polynomial with that root (synthetic division; the remainder is dropped).
    static func divideByLinear(_ a: [UInt64], root: UInt64) -> [UInt64] {
        guard a.count >= 2 else { return [] }
        var out = [UInt64](repeating: 0, count: a.count - 1)
        var carry: UInt64 = 0
        for d in stride(from: a.count - 1, through: 1, by: -1) {
            carry = Mersenne61.add(a[d], Mersenne61.multiply(carry, root))
            out[d - 1] = carry
        }
        return out
    }

    static func evaluate(_ a: [UInt64], at x: UInt64) -> UInt64 {
        var y: UInt64 = 0
        for c in a.reversed() { y = Mersenne61.add(Mersenne61.multiply(y, x), c) }
        return y
    }
}
