public import SecAggCrypto

/// One client's quantized update: ring elements ready for masking, and how many coordinates were clipped.
public struct QuantizedUpdate: Hashable, Sendable {
    /// Canonical elements of Z_R: the model coordinates, then the weight when the plan is weighted.
    public var elements: [UInt64]
    /// The number of coordinates that lay outside [−c, c] and were clipped.
    public var clippedCount: Int

    /// Creates an update.
    public init(elements: [UInt64], clippedCount: Int) {
        self.elements = elements
        self.clippedCount = clippedCount
    }
}

extension QuantizationPlan {
    /// Random words drawn per refill of the stochastic-rounding buffer.
    private static let randomBatchCount = 512

    // MARK: Quantizing

    /// Quantizes a Float32 update with weight `weight` (SPEC.md §7.2). Stochastic rounding reads one
    /// little-endian 64-bit word per coordinate from `rng`, in coordinate order.
    public func quantize(_ values: [Float], weight: Int = 1, using rng: inout some RandomByteGenerator)
        throws(QuantizationError) -> QuantizedUpdate
    {
        try values.withUnsafeBufferPointer { (buffer) throws(QuantizationError) in
            try quantizeBuffer(buffer, weight: weight, using: &rng)
        }
    }

    /// Quantizes a Float64 update with weight `weight` (SPEC.md §7.2).
    public func quantize(_ values: [Double], weight: Int = 1, using rng: inout some RandomByteGenerator)
        throws(QuantizationError) -> QuantizedUpdate
    {
        try values.withUnsafeBufferPointer { (buffer) throws(QuantizationError) in
            try quantizeBuffer(buffer, weight: weight, using: &rng)
        }
    }

    /// Quantizes a Float32 update with randomness from the system CSPRNG.
    public func quantize(_ values: [Float], weight: Int = 1) throws(QuantizationError) -> QuantizedUpdate {
        var rng = SystemRandomGenerator()
        return try quantize(values, weight: weight, using: &rng)
    }

    /// Quantizes a Float64 update with randomness from the system CSPRNG.
    public func quantize(_ values: [Double], weight: Int = 1) throws(QuantizationError) -> QuantizedUpdate {
        var rng = SystemRandomGenerator()
        return try quantize(values, weight: weight, using: &rng)
    }

    /// The ring element of a signed integer in the centered representation (two's complement for 2^b).
    @inlinable
    public func embed(_ value: Int64) -> UInt64 {
        switch modulus {
        case .powerOfTwo: UInt64(bitPattern: value) & modulus.elementMask
        case let .integer(q): value >= 0 ? UInt64(value) % q : q &- (value.magnitude % q)
        }
    }

    /// The signed integer of a canonical element: v when v ≤ H, else v − R.
    @inlinable
    public func centeredValue(_ element: UInt64) -> Int64 {
        let half = centeredBound
        if element <= half { return Int64(element) }
        switch modulus {
        case .powerOfTwo:
            // v − 2^b: v has its top bit set, so sign-extend it to 64 bits.
            return Int64(bitPattern: element | ~modulus.elementMask)
        case let .integer(q):
            return -Int64(q - element)
        }
    }

    private func quantizeBuffer<T: BinaryFloatingPoint>(
        _ values: UnsafeBufferPointer<T>, weight: Int, using rng: inout some RandomByteGenerator
    ) throws(QuantizationError) -> QuantizedUpdate {
        guard (isWeighted ? 0 : 1)...weightBound ~= weight else {
            throw .weightOutOfRange(weight: weight, maximum: weightBound)
        }
        let count = values.count
        var clipped = 0
        var nonFinite: Int?
        let c = clipRange
        let w = Double(weight)
        let s = scale
        let stochastic = rounding == .stochastic
        var random = [UInt64](repeating: 0, count: stochastic ? Swift.min(count, Self.randomBatchCount) : 0)
        var randomIndex = random.count
        let elements = [UInt64](unsafeUninitializedCapacity: vectorLength(valueCount: count)) { out, initialized in
            for i in 0..<count {
                var x = Double(values[i])
                if !x.isFinite {
                    if nonFinite == nil { nonFinite = i }
                    x = 0
                }
                if x > c {
                    x = c
                    clipped += 1
                } else if x < -c {
                    x = -c
                    clipped += 1
                }
                let y = (x * w) * s
                let magnitude = y.magnitude
                var integer = magnitude.rounded(.down)
                if stochastic {
                    if randomIndex == random.count {
                        let take = Swift.min(count - i, Self.randomBatchCount)
                        random.withUnsafeMutableBytes {
                            rng.fill(UnsafeMutableRawBufferPointer(rebasing: $0[0..<(take * 8)]))
                        }
                        randomIndex = 0
                    }
                    let u = Double(UInt64(littleEndian: random[randomIndex]) >> 11) * 0x1p-53
                    randomIndex += 1
                    if u < magnitude - integer { integer += 1 }
                } else {
                    integer = magnitude.rounded(.toNearestOrAwayFromZero)
                }
                // |integer| ≤ B ≤ H < 2^63 by the plan, so the conversion is exact and cannot trap.
                let signed = y < 0 ? -Int64(integer) : Int64(integer)
                (out.baseAddress.unsafelyUnwrapped + i).initialize(to: embed(signed))
            }
            if isWeighted {
                (out.baseAddress.unsafelyUnwrapped + count).initialize(to: UInt64(weight))
            }
            initialized = vectorLength(valueCount: count)
        }
        if let nonFinite { throw .nonFiniteValue(index: nonFinite) }
        return QuantizedUpdate(elements: elements, clippedCount: clipped)
    }

    // MARK: Decoding

    /// The decoded sum Σ w_i · x_i over the included clients (SPEC.md §7.4), without the weight coordinate.
    public func decodeSum(_ aggregate: [UInt64], includedClientCount: Int) throws(QuantizationError) -> [Double] {
        let integers = try decodeIntegers(aggregate, includedClientCount: includedClientCount)
        return integers.map { Double($0) / scale }
    }

    /// The decoded mean: the sum divided by the total weight (weighted plan) or by the included client
    /// count (unweighted plan).
    public func decodeMean(_ aggregate: [UInt64], includedClientCount: Int) throws(QuantizationError) -> [Double] {
        let integers = try decodeIntegers(aggregate, includedClientCount: includedClientCount)
        let divisor: Double
        if isWeighted {
            let total = try decodeTotalWeight(aggregate, includedClientCount: includedClientCount)
            guard total > 0 else { throw .zeroTotalWeight }
            divisor = scale * Double(total)
        } else {
            divisor = scale * Double(includedClientCount)
        }
        return integers.map { Double($0) / divisor }
    }

    /// The total weight Σ w_i carried by the weight coordinate (the included client count when unweighted).
    public func decodeTotalWeight(_ aggregate: [UInt64], includedClientCount: Int) throws(QuantizationError) -> Int {
        try checkIncluded(includedClientCount)
        guard isWeighted else { return includedClientCount }
        guard let last = aggregate.last else { throw .vectorLengthMismatch(actual: 0, expected: 1) }
        guard modulus.contains(last) else {
            throw .elementOutOfRange(index: aggregate.count - 1, modulus: modulus)
        }
        // n_incl · W ≤ H by the plan, so a larger value is impossible for honest clients.
        let total = centeredValue(last)
        guard total >= 0, total <= Int64(includedClientCount) * Int64(weightBound) else {
            throw .aggregateOutOfRange(index: aggregate.count - 1)
        }
        return Int(total)
    }

    /// The signed integer sums of the model coordinates, each checked against n_incl · B.
    public func decodeIntegers(_ aggregate: [UInt64], includedClientCount: Int) throws(QuantizationError)
        -> [Int64]
    {
        try checkIncluded(includedClientCount)
        let valueCount = isWeighted ? aggregate.count - 1 : aggregate.count
        guard valueCount >= 0 else { throw .vectorLengthMismatch(actual: 0, expected: 1) }
        let limit = Int64(includedClientCount) * Int64(elementBound)
        var result = [Int64](repeating: 0, count: valueCount)
        for i in 0..<valueCount {
            let element = aggregate[i]
            guard modulus.contains(element) else { throw .elementOutOfRange(index: i, modulus: modulus) }
            let value = centeredValue(element)
            guard value.magnitude <= limit.magnitude else { throw .aggregateOutOfRange(index: i) }
            result[i] = value
        }
        return result
    }

    private func checkIncluded(_ count: Int) throws(QuantizationError) {
        guard (1...clientCount).contains(count) else {
            throw .includedClientCountOutOfRange(count: count, maximum: clientCount)
        }
    }
}
