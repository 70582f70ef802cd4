/// One Shamir share: the x-coordinate (a 1-based party index) and one field element per secret chunk.
/// The values are secret-bearing and live in zeroised storage; `description` never shows them.
public struct ShamirShare: Sendable, Equatable {
    /// The x-coordinate (never 0).
    public let x: UInt32
    /// The y-values: `chunkCount` little-endian 8-byte field elements.
    public let values: SecretBytes

    /// The number of field elements.
    public var chunkCount: Int { values.byteCount / 8 }

    /// Bytes in the encoding of a share of a `secretByteCount`-byte secret: 4 + 8 · ⌈secretByteCount / 7⌉.
    public static func encodedByteCount(secretByteCount: Int) -> Int {
        4 + 8 * ShamirSecretSharing.chunkCount(secretByteCount: secretByteCount)
    }

    /// A share from its parts; each value must be a field element.
    public init(x: UInt32, values: SecretBytes) throws(SecAggCryptoError) {
        guard x != 0 else { throw .zeroShareIndex }
        guard values.byteCount % 8 == 0, values.byteCount > 0 else {
            throw .incorrectByteCount(actual: values.byteCount, expected: 8 * max(1, values.byteCount / 8))
        }
        guard values.withUnsafeBytes(Self.areFieldElements) else { throw .invalidShareValue(index: x) }
        self.x = x
        self.values = values
    }

    /// Decodes LE32(x) || LE64(y_0) || … (SPEC.md §6.3).
    public init(encoded bytes: [UInt8], secretByteCount: Int) throws(SecAggCryptoError) {
        let expected = Self.encodedByteCount(secretByteCount: secretByteCount)
        guard bytes.count == expected else { throw .incorrectByteCount(actual: bytes.count, expected: expected) }
        let x = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        try self.init(x: x, values: SecretBytes(copying: bytes[4...]))
    }

    /// The encoding LE32(x) || values. The result holds secret material.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + values.byteCount)
        appendLittleEndian(x, to: &out)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    func value(_ chunk: Int) -> UInt64 {
        values.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8 * chunk, as: UInt64.self)) }
    }
}

extension ShamirShare: CustomStringConvertible {
    /// Shows the index only.
    public var description: String { "ShamirShare(x: \(x), \(chunkCount) elements, redacted)" }
}

/// Shamir t-of-n secret sharing over F_p, p = 2^61 − 1 (SPEC.md §6).
///
/// A secret of L bytes is cut into ⌈L / 7⌉ chunks of 7 bytes (the last may be shorter), each read as a
/// little-endian integer < 2^56 < p and shared with its own random polynomial of degree t − 1.
public enum ShamirSecretSharing {
    /// Bytes per chunk: 56 bits always fit below p.
    public static let chunkByteCount = 7
    /// The largest number of shares (x-coordinates are 32-bit; any distinct nonzero values below p work).
    public static let maximumShareCount = Int(UInt32.max)

    /// ⌈secretByteCount / 7⌉.
    public static func chunkCount(secretByteCount: Int) -> Int {
        (secretByteCount + chunkByteCount - 1) / chunkByteCount
    }

    /// Shares of `secret` for the parties 1...shareCount.
    public static func split(
        secret: SecretBytes, threshold: Int, shareCount: Int, using rng: inout some RandomByteGenerator
    ) throws(SecAggCryptoError) -> [ShamirShare] {
        guard shareCount >= 1, shareCount <= maximumShareCount else {
            throw .invalidThreshold(threshold: threshold, shareCount: shareCount)
        }
        return try split(
            secret: secret, threshold: threshold, xCoordinates: (1...shareCount).map { UInt32($0) }, using: &rng)
    }

    /// Shares of `secret` for the parties 1...shareCount, with coefficients from the system CSPRNG.
    public static func split(secret: SecretBytes, threshold: Int, shareCount: Int) throws(SecAggCryptoError)
        -> [ShamirShare]
    {
        var rng = SystemRandomGenerator()
        return try split(secret: secret, threshold: threshold, shareCount: shareCount, using: &rng)
    }

    /// Shares of `secret` at the given x-coordinates (distinct, nonzero): 1 ≤ t ≤ count.
    ///
    /// Randomness: for each chunk j in order, for each degree i = 1 ... t − 1, draw little-endian 8-byte
    /// words from `rng`, keep the low 61 bits, and retry while the value equals p (no modulo bias).
    public static func split(
        secret: SecretBytes, threshold: Int, xCoordinates: [UInt32], using rng: inout some RandomByteGenerator
    ) throws(SecAggCryptoError) -> [ShamirShare] {
        guard threshold >= 1, threshold <= xCoordinates.count else {
            throw .invalidThreshold(threshold: threshold, shareCount: xCoordinates.count)
        }
        try checkCoordinates(xCoordinates)
        let chunks = chunkCount(secretByteCount: secret.byteCount)
        guard chunks > 0 else { throw .incorrectByteCount(actual: 0, expected: 1) }
        // coefficients[j * t + i]: coefficient of degree i of chunk j's polynomial.
        var coefficients = [UInt64](repeating: 0, count: chunks * threshold)
        defer { secureZero(&coefficients) }
        secret.withUnsafeBytes { s in
            for j in 0..<chunks {
                var value: UInt64 = 0
                let start = j * chunkByteCount
                let end = min(start + chunkByteCount, s.count)
                for k in stride(from: end - 1, through: start, by: -1) { value = value << 8 | UInt64(s[k]) }
                coefficients[j * threshold] = value
            }
        }
        for j in 0..<chunks {
            for i in 1..<threshold {
                var candidate: UInt64
                repeat { candidate = rng.next(UInt64.self) & Mersenne61.prime } while candidate == Mersenne61.prime
                coefficients[j * threshold + i] = candidate
            }
        }
        // f_j(x) by Horner's rule, all chunk polynomials side by side (independent chains the CPU overlaps),
        // with one fold per step instead of a full reduction: x is a 32-bit party index, so the running
        // value stays below 2^62 (Mersenne61.multiplyAddLoose) and is reduced once at the end. No branch
        // on secret data; the same field elements as evaluating the sum directly.
        var shares: [ShamirShare] = []
        shares.reserveCapacity(xCoordinates.count)
        var ys = [UInt64](repeating: 0, count: chunks)
        defer { secureZero(&ys) }
        coefficients.withUnsafeBufferPointer { c in
            ys.withUnsafeMutableBufferPointer { y in
                for x in xCoordinates {
                    let xv = UInt64(x)
                    if chunks == 5 {
                        // 32-byte secrets (every key and seed of the protocol): the five running values in
                        // registers rather than memory, which keeps the chains short.
                        Self.horner5(c.baseAddress.unsafelyUnwrapped, threshold: threshold, at: xv, into: y)
                    } else {
                        for j in 0..<chunks { y[j] = c[j * threshold + threshold - 1] }
                        var i = threshold - 2
                        while i >= 0 {
                            for j in 0..<chunks {
                                y[j] = Mersenne61.multiplyAddLoose(y[j], xv, c[j * threshold + i])
                            }
                            i -= 1
                        }
                    }
                    let values = SecretBytes(byteCount: 8 * chunks) { out in
                        for j in 0..<chunks {
                            out.storeBytes(
                                of: Mersenne61.reduce(y[j]).littleEndian, toByteOffset: 8 * j, as: UInt64.self)
                        }
                    }
                    shares.append(ShamirShare(validX: x, values: values))
                }
            }
        }
        return shares
    }

    /// Horner's rule for five polynomials of `threshold` coefficients each (c[j · threshold + i]) at x;
    /// y[j] receives f_j(x) loosely reduced (below 2^62).
    @inline(__always)
    private static func horner5(
        _ c: UnsafePointer<UInt64>, threshold t: Int, at x: UInt64, into y: UnsafeMutableBufferPointer<UInt64>
    ) {
        var y0 = c[t - 1]
        var y1 = c[2 * t - 1]
        var y2 = c[3 * t - 1]
        var y3 = c[4 * t - 1]
        var y4 = c[5 * t - 1]
        var i = t - 2
        while i >= 0 {
            y0 = Mersenne61.multiplyAddLoose(y0, x, c[i])
            y1 = Mersenne61.multiplyAddLoose(y1, x, c[t + i])
            y2 = Mersenne61.multiplyAddLoose(y2, x, c[2 * t + i])
            y3 = Mersenne61.multiplyAddLoose(y3, x, c[3 * t + i])
            y4 = Mersenne61.multiplyAddLoose(y4, x, c[4 * t + i])
            i -= 1
        }
        y[0] = y0
        y[1] = y1
        y[2] = y2
        y[3] = y3
        y[4] = y4
    }

    /// Reconstructs a `secretByteCount`-byte secret from at least `threshold` shares (in any order).
    /// The first `threshold` shares interpolate; every further share is checked against the polynomial.
    public static func reconstruct(_ shares: [ShamirShare], threshold: Int, secretByteCount: Int)
        throws(SecAggCryptoError) -> SecretBytes
    {
        let reconstructor = try ShamirReconstructor(xCoordinates: shares.map(\.x), threshold: threshold)
        return try reconstructor.reconstruct(shares, secretByteCount: secretByteCount)
    }

    static func checkCoordinates(_ xs: [UInt32]) throws(SecAggCryptoError) {
        var seen = Set<UInt32>()
        for x in xs {
            guard x != 0 else { throw .zeroShareIndex }
            guard seen.insert(x).inserted else { throw .duplicateShareIndex(index: x) }
        }
    }
}

extension ShamirShare {
    /// A share from parts already checked (x ≠ 0, every value a field element).
    package init(validX x: UInt32, values: SecretBytes) {
        self.x = x
        self.values = values
    }

    /// The x-coordinate of the encoding `bytes` (LE32(x) ‖ LE64(y_0) ‖ …, SPEC.md §6.3) of a share of a
    /// `secretByteCount`-byte secret, or nil unless it has the right length, x ≠ 0 and every value is a field
    /// element: what ``init(encoded:secretByteCount:)`` accepts, without making the share.
    package static func validatedIndex(encoded bytes: ArraySlice<UInt8>, secretByteCount: Int) -> UInt32? {
        guard bytes.count == encodedByteCount(secretByteCount: secretByteCount) else { return nil }
        return bytes.withUnsafeBytes { b in
            let x = UInt32(littleEndian: b.loadUnaligned(as: UInt32.self))
            return x != 0 && areFieldElements(UnsafeRawBufferPointer(rebasing: b[4...])) ? x : nil
        }
    }

    /// True when every LE64 value of `values` is below p = 2^61 − 1 (a field element).
    static func areFieldElements(_ values: UnsafeRawBufferPointer) -> Bool {
        var valid = true
        for i in 0..<(values.count / 8) {
            let y = UInt64(littleEndian: values.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
            valid = valid && y < Mersenne61.prime
        }
        return valid
    }
}

/// Lagrange coefficients for one set of x-coordinates, computed once and reused for every secret
/// shared among the same parties (the server reconstructs thousands of seeds from one survivor set).
///
/// The first `threshold` coordinates form the interpolation basis; coefficients evaluating the basis
/// polynomial at each further coordinate are precomputed too, so extra shares are checked for consistency.
public struct ShamirReconstructor: Sendable {
    /// The coordinates, basis first.
    public let xCoordinates: [UInt32]
    /// The threshold t.
    public let threshold: Int
    private let atZero: [UInt64]
    private let atChecks: [[UInt64]]

    /// Precomputes coefficients. Throws on fewer than `threshold` coordinates, zero or duplicates.
    public init(xCoordinates: [UInt32], threshold: Int) throws(SecAggCryptoError) {
        guard threshold >= 1 else { throw .invalidThreshold(threshold: threshold, shareCount: xCoordinates.count) }
        guard xCoordinates.count >= threshold else {
            throw .notEnoughShares(count: xCoordinates.count, threshold: threshold)
        }
        try ShamirSecretSharing.checkCoordinates(xCoordinates)
        self.xCoordinates = xCoordinates
        self.threshold = threshold
        let basis = xCoordinates.prefix(threshold).map { UInt64($0) }
        atZero = Self.coefficients(basis: basis, at: 0)
        atChecks = xCoordinates.dropFirst(threshold).map { Self.coefficients(basis: basis, at: UInt64($0)) }
    }

    /// A reconstructor from coefficients computed elsewhere (``ShamirReconstructorFamily``).
    init(validCoordinates xCoordinates: [UInt32], threshold: Int, atZero: [UInt64], atChecks: [[UInt64]]) {
        self.xCoordinates = xCoordinates
        self.threshold = threshold
        self.atZero = atZero
        self.atChecks = atChecks
    }

    /// The coefficients (for tests comparing two ways of computing them): λ_i(0) of the basis, then the
    /// coefficients evaluating the basis polynomial at each check coordinate.
    var lagrangeCoefficients: (atZero: [UInt64], atChecks: [[UInt64]]) { (atZero, atChecks) }

    /// λ_i(z) = Π_{j≠i} (z − x_j) / (x_i − x_j). Coordinates are public, so variable time is fine.
    private static func coefficients(basis: [UInt64], at z: UInt64) -> [UInt64] {
        var result = [UInt64](repeating: 0, count: basis.count)
        var denominators = [UInt64](repeating: 1, count: basis.count)
        var numerators = [UInt64](repeating: 1, count: basis.count)
        for i in basis.indices {
            for j in basis.indices where j != i {
                numerators[i] = Mersenne61.multiply(numerators[i], Mersenne61.subtract(z, basis[j]))
                denominators[i] = Mersenne61.multiply(denominators[i], Mersenne61.subtract(basis[i], basis[j]))
            }
        }
        // One inversion for all denominators (Montgomery's trick).
        var prefix = [UInt64](repeating: 1, count: basis.count + 1)
        for i in basis.indices { prefix[i + 1] = Mersenne61.multiply(prefix[i], denominators[i]) }
        var inverse = Mersenne61.inverse(prefix[basis.count])
        for i in basis.indices.reversed() {
            let inverseI = Mersenne61.multiply(inverse, prefix[i])
            inverse = Mersenne61.multiply(inverse, denominators[i])
            result[i] = Mersenne61.multiply(numerators[i], inverseI)
        }
        return result
    }

    /// Reconstructs from shares whose x-coordinates equal ``xCoordinates`` in the same order.
    public func reconstruct(_ shares: [ShamirShare], secretByteCount: Int) throws(SecAggCryptoError)
        -> SecretBytes
    {
        guard shares.count == xCoordinates.count else {
            throw .notEnoughShares(count: shares.count, threshold: xCoordinates.count)
        }
        let chunks = ShamirSecretSharing.chunkCount(secretByteCount: secretByteCount)
        for (share, x) in zip(shares, xCoordinates) {
            guard share.x == x else { throw .inconsistentShares }
            guard share.chunkCount == chunks else { throw .inconsistentShares }
        }
        var consistent = true
        let secret = SecretBytes(byteCount: secretByteCount) { out in
            for j in 0..<chunks {
                var value: UInt64 = 0
                for i in 0..<threshold {
                    value = Mersenne61.add(value, Mersenne61.multiply(atZero[i], shares[i].value(j)))
                }
                for (c, coefficients) in atChecks.enumerated() {
                    var y: UInt64 = 0
                    for i in 0..<threshold {
                        y = Mersenne61.add(y, Mersenne61.multiply(coefficients[i], shares[i].value(j)))
                    }
                    consistent = consistent && y == shares[threshold + c].value(j)
                }
                let start = j * ShamirSecretSharing.chunkByteCount
                let end = min(start + ShamirSecretSharing.chunkByteCount, secretByteCount)
                // A chunk decodes only if it fits its byte count: shares of different secrets interpolate
                // to a random field element, which almost never does (SPEC.md §6.4).
                consistent = consistent && (value >> UInt64(8 * (end - start))) == 0
                for k in start..<end {
                    out[k] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (k - start)))
                }
            }
        }
        guard consistent else { throw .inconsistentShares }
        return secret
    }
}
