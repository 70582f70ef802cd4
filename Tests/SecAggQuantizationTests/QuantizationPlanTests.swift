import Foundation
import SecAggCrypto
import SecAggQuantization
import Testing

@Test func closingNoteFigures() throws {
    // s = ⌊H/n⌋ / (c·W) with H = 2^(b−1) − 1; these quotients are exact in Float64.
    let cases: [(n: Int, c: Double, b: Int, m: Double)] = [
        (100, 1, 16, Double(32_767 / 100)), (1_000, 1, 32, Double(2_147_483_647 / 1_000)),
        (100_000, 8, 32, Double(2_147_483_647 / 100_000)),
    ]
    for (n, c, b, m) in cases {
        let plan = try QuantizationPlan.plan(clientCount: n, clipRange: c, bitWidth: b)
        #expect(plan.scale == m / c)
        #expect(plan.worstCaseMeanError == 1 / plan.scale)
        #expect(plan.worstCaseSumError == Double(n) / plan.scale)
        #expect(UInt64(n) * plan.elementBound <= plan.centeredBound)
        // One more unit of scale would break the bound: the scale is the largest.
        let bigger = (c * (m + 1) / c).rounded(.up)
        #expect(UInt64(n) * UInt64(bigger) > plan.centeredBound)
        print(
            "figure n=\(n) c=\(c) b=\(b): s=\(plan.scale) meanError=\(plan.worstCaseMeanError) sumError=\(plan.worstCaseSumError)"
        )
    }
}

@Test func planRefusesWrappingConfigurations() throws {
    #expect(
        throws: QuantizationError.wrapUnavoidable(
            clientCount: 100_000, maximumWeight: 1, modulus: .powerOfTwo(bitWidth: 16), minimumBitWidth: 18,
            maximumClientCount: 32_767)
    ) { try QuantizationPlan.plan(clientCount: 100_000, clipRange: 1, bitWidth: 16) }
    // The suggested bit width works; the suggested client count works.
    _ = try QuantizationPlan.plan(clientCount: 100_000, clipRange: 1, bitWidth: 18)
    _ = try QuantizationPlan.plan(clientCount: 32_767, clipRange: 1, bitWidth: 16)
    // Weighted: the weight coordinate itself must not wrap (n · W ≤ H).
    #expect(throws: QuantizationError.self) {
        try QuantizationPlan.plan(clientCount: 100, clipRange: 1, bitWidth: 16, maximumWeight: 400)
    }
    _ = try QuantizationPlan.plan(clientCount: 100, clipRange: 1, bitWidth: 16, maximumWeight: 327)
    // An explicit scale one ulp too large is refused.
    let plan = try QuantizationPlan.plan(clientCount: 100, clipRange: 1, bitWidth: 16)
    #expect(throws: QuantizationError.self) {
        try QuantizationPlan(
            clientCount: 100, clipRange: 1, modulus: .powerOfTwo(bitWidth: 16),
            scale: plan.scale.nextUp)
    }
    #expect(throws: QuantizationError.invalidPlanParameter(name: "clientCount", reason: "must be at least 1")) {
        try QuantizationPlan.plan(clientCount: 0, clipRange: 1, bitWidth: 16)
    }
    #expect(throws: QuantizationError.self) { try QuantizationPlan.plan(clientCount: 1, clipRange: .nan, bitWidth: 16) }
    #expect(throws: QuantizationError.self) { try QuantizationPlan.plan(clientCount: 1, clipRange: 1, bitWidth: 1) }
    #expect(throws: QuantizationError.self) { try QuantizationPlan.plan(clientCount: 1, clipRange: 1, bitWidth: 65) }
}

@Test func planFromTargetPrecision() throws {
    let plan = try QuantizationPlan.plan(clientCount: 1_000, clipRange: 1, targetError: 1e-3)
    #expect(plan.worstCaseMeanError <= 1e-3)
    guard case let .powerOfTwo(b) = plan.modulus else {
        Issue.record("expected a power-of-two ring")
        return
    }
    // One bit fewer would not reach the target.
    let smaller = try QuantizationPlan.plan(clientCount: 1_000, clipRange: 1, bitWidth: b - 1)
    #expect(smaller.worstCaseMeanError > 1e-3)
    do {
        _ = try QuantizationPlan.plan(clientCount: 1_000_000, clipRange: 1_000, targetError: 1e-15)
        Issue.record("expected precisionUnattainable")
    } catch let .precisionUnattainable(target, achievable, maximumClip, maximumClients) {
        #expect(target == 1e-15)
        #expect(achievable > 1e-15)
        // The suggestions work.
        let byClip = try QuantizationPlan.plan(clientCount: 1_000_000, clipRange: maximumClip, bitWidth: 64)
        #expect(byClip.worstCaseMeanError <= 1e-15 * (1 + 1e-9))
        let byClients = try QuantizationPlan.plan(clientCount: maximumClients, clipRange: 1_000, bitWidth: 64)
        #expect(byClients.worstCaseMeanError <= 1e-15 * (1 + 1e-9))
    }
}

@Test func planCodableRoundTripAndValidation() throws {
    let plan = try QuantizationPlan.plan(
        clientCount: 50, clipRange: 0.5, modulus: .integer(1_000_003),
        maximumWeight: 20, rounding: .nearest)
    let data = try JSONEncoder().encode(plan)
    #expect(try JSONDecoder().decode(QuantizationPlan.self, from: data) == plan)
    // A configuration whose scale would wrap is rejected on decode.
    let bad =
        #"{"clientCount":50,"clipRange":0.5,"modulus":{"integer":{"_0":1000003}},"scale":1e9,"rounding":"nearest"}"#
    #expect(throws: (any Error).self) { try JSONDecoder().decode(QuantizationPlan.self, from: Data(bad.utf8)) }
}

private let moduli: [RingModulus] = [
    .powerOfTwo(bitWidth: 16), .powerOfTwo(bitWidth: 32), .powerOfTwo(bitWidth: 64),
    .integer(1_000_003), .integer(4_294_967_291),
]

@Test func nearestRoundTripWithinHalfUnit() throws {
    var rng = DeterministicRandomGenerator(testLabel: "nearest-round-trip")
    for modulus in moduli {
        let plan = try QuantizationPlan.plan(clientCount: 10, clipRange: 2, modulus: modulus, rounding: .nearest)
        let values = (0..<2_000).map { _ in (rng.nextUnitDouble() * 2 - 1) * 2.5 }
        let q = try plan.quantize(values, using: &rng)
        #expect(q.clippedCount == values.filter { abs($0) > 2 }.count)
        let decoded = try plan.decodeSum(q.elements, includedClientCount: 1)
        for (x, d) in zip(values, decoded) {
            let clipped = min(max(x, -2), 2)
            // 1/(2s) plus Float64 rounding of the product (relative 2^-52).
            #expect(abs(d - clipped) <= 0.5 / plan.scale + 4 * abs(clipped) * 0x1p-52, "\(modulus)")
        }
        let floats = values.map { Float($0) }
        let qf = try plan.quantize(floats, using: &rng)
        let decodedFloats = try plan.decodeSum(qf.elements, includedClientCount: 1)
        for (x, d) in zip(floats, decodedFloats) {
            let clipped = min(max(Double(x), -2), 2)
            #expect(abs(d - clipped) <= 0.5 / plan.scale + 4 * abs(clipped) * 0x1p-52)
        }
    }
}

@Test func stochasticRoundingIsUnbiased() throws {
    // y = s·x has fractional part 0.3: each rounding is ⌊y⌋ + Bernoulli(0.3). Over N = 20,000 draws the
    // mean of the decoded values has standard deviation sqrt(0.3·0.7/N)/s; tolerance 5σ (fixed seed).
    let plan = try QuantizationPlan.plan(clientCount: 100, clipRange: 1, bitWidth: 16)
    let x = (100.3 / plan.scale)
    var rng = DeterministicRandomGenerator(testLabel: "stochastic-unbiased")
    let count = 20_000
    let q = try plan.quantize([Double](repeating: x, count: count), using: &rng)
    let decoded = try plan.decodeSum(q.elements, includedClientCount: 1)
    let mean = decoded.reduce(0, +) / Double(count)
    let sigma = (0.3 * 0.7 / Double(count)).squareRoot() / plan.scale
    #expect(abs(mean - x) <= 5 * sigma)
    // And it is genuinely random: both neighbours occur, nothing else.
    #expect(Set(decoded.map { ($0 * plan.scale).rounded() }) == [100, 101])
    // Negative values are symmetric.
    let qn = try plan.quantize([Double](repeating: -x, count: count), using: &rng)
    let meanNegative = try plan.decodeSum(qn.elements, includedClientCount: 1).reduce(0, +) / Double(count)
    #expect(abs(meanNegative + x) <= 5 * sigma)
}

@Test func stochasticRoundingConsumesOneWordPerCoordinate() throws {
    let plan = try QuantizationPlan.plan(clientCount: 3, clipRange: 1, bitWidth: 20)
    var a = DeterministicRandomGenerator(testLabel: "words")
    var b = DeterministicRandomGenerator(testLabel: "words")
    let values = (0..<1_100).map { Double($0 % 37) / 37 - 0.5 }
    let q = try plan.quantize(values, using: &a)
    for (i, x) in values.enumerated() {
        let y = x * plan.scale
        let u = Double(b.next(UInt64.self) >> 11) * 0x1p-53
        var m = y.magnitude.rounded(.down)
        if u < y.magnitude - m { m += 1 }
        #expect(plan.centeredValue(q.elements[i]) == (y < 0 ? -Int64(m) : Int64(m)))
    }
    #expect(a.next(UInt64.self) == b.next(UInt64.self))
}

/// Worst-case sums never wrap: exhaustive for small rings and client counts.
@Test func plannedScaleNeverWrapsExhaustive() throws {
    for b in 2...10 {
        let modulus = RingModulus.powerOfTwo(bitWidth: b)
        let half = Int((1 << (b - 1)) - 1)
        for n in 1...half {
            for rounding in [QuantizationPlan.Rounding.stochastic, .nearest] {
                let plan = try QuantizationPlan.plan(
                    clientCount: n, clipRange: 1.5, modulus: modulus, rounding: rounding)
                let bound = Int(plan.elementBound)
                #expect(n * bound <= half)
                // Every coordinate of one client, for inputs across and beyond the clip range, stays in [−B, B].
                var rng = DeterministicRandomGenerator(testLabel: "exhaustive-\(b)-\(n)")
                let grid = stride(from: -2.0, through: 2.0, by: 1.0 / 64).map { $0 } + [1.5, -1.5, 1.5.nextDown]
                let q = try plan.quantize(grid, using: &rng)
                for e in q.elements { #expect(abs(Int(plan.centeredValue(e))) <= bound) }
                // Every possible sum of n such values decodes to itself.
                for z in -(n * bound)...(n * bound) {
                    #expect(Int(plan.centeredValue(plan.embed(Int64(z)))) == z)
                }
                // The all-maximal and all-minimal inputs sum without wrapping.
                let top = try plan.quantize([1.5, -1.5], using: &rng)
                var sum = [UInt64](repeating: 0, count: 2)
                for _ in 0..<n { sum = zip(sum, top.elements).map { modulus.add($0, $1) } }
                #expect(try plan.decodeIntegers(sum, includedClientCount: n) == [Int64(n * bound), -Int64(n * bound)])
            }
        }
    }
}

/// Randomized beyond the exhaustive range: random n, c, W, ring; maximal inputs summed modulo R.
@Test func plannedScaleNeverWrapsRandomized() throws {
    var rng = DeterministicRandomGenerator(testLabel: "randomized-wrap")
    for _ in 0..<300 {
        let b = Int(rng.next(below: 63)) + 2
        let modulus: RingModulus =
            rng.next(below: 4) == 0 ? .integer(rng.next(below: (1 << 62) - 2) + 3) : .powerOfTwo(bitWidth: b)
        let half = QuantizationPlan.centeredBound(for: modulus)
        guard half >= 1 else { continue }
        let n = Int(rng.next(below: min(half, 1 << 20))) + 1
        let weighted = rng.next(below: 2) == 0
        let w = weighted ? Int(rng.next(below: max(1, min(half / UInt64(n), 1 << 16)))) + 1 : nil
        let c = Double(rng.next(below: 1_000) + 1) / 7
        let rounding: QuantizationPlan.Rounding = rng.next(below: 2) == 0 ? .stochastic : .nearest
        guard
            let plan = try? QuantizationPlan.plan(
                clientCount: n, clipRange: c, modulus: modulus,
                maximumWeight: w, rounding: rounding)
        else {
            // Refused only when genuinely impossible: H < n · W.
            #expect(
                UInt64(n).multipliedFullWidth(by: UInt64(w ?? 1)).high > 0
                    || UInt64(n) * UInt64(w ?? 1) > half)
            continue
        }
        let weight = w ?? 1
        let inputs = [c, -c, c.nextDown, -c.nextDown, c * 10, -c * 10]
        let update = try plan.quantize(inputs, weight: weight, using: &rng)
        // Sum n copies in the ring by repeated doubling (n can be large).
        var sum = [UInt64](repeating: 0, count: update.elements.count)
        var addend = update.elements
        var k = n
        while k > 0 {
            if k & 1 == 1 { sum = zip(sum, addend).map { modulus.add($0, $1) } }
            addend = addend.map { modulus.add($0, $0) }
            k >>= 1
        }
        let single = update.elements.prefix(inputs.count).map { plan.centeredValue($0) }
        for v in single { #expect(v.magnitude <= plan.elementBound) }
        let decoded = try plan.decodeIntegers(sum, includedClientCount: n)
        #expect(decoded == single.map { $0 * Int64(n) }, "n=\(n) \(modulus) W=\(weight)")
        #expect(try plan.decodeTotalWeight(sum, includedClientCount: n) == (w == nil ? n : n * weight))
    }
}

@Test func weightedMeanMatchesReference() throws {
    var rng = DeterministicRandomGenerator(testLabel: "fedavg")
    for modulus in [RingModulus.powerOfTwo(bitWidth: 32), .integer(4_294_967_291), .powerOfTwo(bitWidth: 24)] {
        let n = 40
        let plan = try QuantizationPlan.plan(clientCount: n, clipRange: 1, modulus: modulus, maximumWeight: 500)
        let dimension = 64
        let included = 37
        var sum = [UInt64](repeating: 0, count: dimension + 1)
        var reference = [Double](repeating: 0, count: dimension)
        var totalWeight = 0
        for _ in 0..<included {
            let weight = Int(rng.next(below: 500)) + 1
            let update = (0..<dimension).map { _ in rng.nextUnitDouble() * 2 - 1 }
            let q = try plan.quantize(update, weight: weight, using: &rng)
            #expect(q.elements.count == dimension + 1)
            sum = zip(sum, q.elements).map { modulus.add($0, $1) }
            for j in 0..<dimension { reference[j] += Double(weight) * update[j] }
            totalWeight += weight
        }
        #expect(try plan.decodeTotalWeight(sum, includedClientCount: included) == totalWeight)
        let mean = try plan.decodeMean(sum, includedClientCount: included)
        let bound = plan.worstCaseMeanError(includedClientCount: included, totalWeight: totalWeight)
        #expect(bound <= plan.worstCaseMeanError)
        for j in 0..<dimension {
            #expect(abs(mean[j] - reference[j] / Double(totalWeight)) <= bound * (1 + 1e-9) + 1e-12)
        }
    }
}

@Test func quantizeAndDecodeErrors() throws {
    let plan = try QuantizationPlan.plan(clientCount: 10, clipRange: 1, bitWidth: 16)
    #expect(throws: QuantizationError.nonFiniteValue(index: 1)) { try plan.quantize([0, Double.nan, .infinity]) }
    #expect(throws: QuantizationError.weightOutOfRange(weight: 2, maximum: 1)) { try plan.quantize([0.5], weight: 2) }
    let weighted = try QuantizationPlan.plan(clientCount: 10, clipRange: 1, bitWidth: 16, maximumWeight: 5)
    #expect(throws: QuantizationError.weightOutOfRange(weight: 6, maximum: 5)) {
        try weighted.quantize([0.5], weight: 6)
    }
    #expect(throws: QuantizationError.weightOutOfRange(weight: -1, maximum: 5)) {
        try weighted.quantize([0.5], weight: -1)
    }
    let zero = try weighted.quantize([0.5], weight: 0)
    #expect(throws: QuantizationError.zeroTotalWeight) {
        try weighted.decodeMean(zero.elements, includedClientCount: 1)
    }
    #expect(throws: QuantizationError.includedClientCountOutOfRange(count: 11, maximum: 10)) {
        try plan.decodeSum([0], includedClientCount: 11)
    }
    #expect(throws: QuantizationError.includedClientCountOutOfRange(count: 0, maximum: 10)) {
        try plan.decodeSum([0], includedClientCount: 0)
    }
    // A coordinate larger than one client can produce, claimed to come from one client.
    let large = plan.embed(Int64(plan.elementBound) + 1)
    #expect(throws: QuantizationError.aggregateOutOfRange(index: 0)) {
        try plan.decodeSum([large], includedClientCount: 1)
    }
    #expect(throws: QuantizationError.elementOutOfRange(index: 0, modulus: .powerOfTwo(bitWidth: 16))) {
        try plan.decodeSum([1 << 16], includedClientCount: 1)
    }
    #expect(throws: QuantizationError.aggregateOutOfRange(index: 1)) {
        try weighted.decodeTotalWeight([0, 6], includedClientCount: 1)
    }
}
