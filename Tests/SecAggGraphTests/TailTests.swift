import Foundation
import Testing

@testable import SecAggGraph

/// C(m, r) exactly in UInt64 (fine for m ≤ 60).
private func choose(_ m: Int, _ r: Int) -> UInt64 {
    guard r >= 0, r <= m else { return 0 }
    var result: UInt64 = 1
    for i in 0..<min(r, m - r) {
        result = result * UInt64(m - i) / UInt64(i + 1)
    }
    return result
}

/// P[X ≥ x] by direct enumeration with exact integer binomials.
private func exactUpperTail(population: Int, successes: Int, draws: Int, atLeast x: Int) -> Double {
    let total = Double(choose(population, draws))
    var sum = 0.0
    guard x <= draws else { return 0 }
    for y in max(0, x)...draws {
        sum += Double(choose(successes, y)) * Double(choose(population - successes, draws - y))
    }
    return sum / total
}

@Test func hypergeometricTailsMatchExactEnumeration() throws {
    for (population, successes, draws) in [
        (20, 7, 9), (59, 19, 30), (60, 3, 40), (45, 44, 10), (50, 10, 49), (30, 0, 5),
    ] {
        let distribution = try Hypergeometric(population: population, successes: successes, draws: draws)
        for x in 0...(draws + 1) {
            let exact = exactUpperTail(population: population, successes: successes, draws: draws, atLeast: x)
            let computed = distribution.log2UpperTail(atLeast: x)
            if exact == 0 {
                #expect(computed == -.infinity)
            } else {
                #expect(abs(computed - log2(exact)) < 1e-9, "N=\(population) K=\(successes) k=\(draws) x=\(x)")
            }
            // Lower and upper tails are complementary.
            let lower = distribution.log2LowerTail(atMost: x - 1)
            #expect(abs(exp2(lower) + exp2(computed) - 1) < 1e-12)
        }
    }
}

@Test func hypergeometricTailsMatchBruteForceLogSum() throws {
    // Large parameters: compare the truncated recurrence with a full log-sum-exp over every pmf term.
    for (population, successes, draws) in [(99_999, 33_000, 500), (999_999, 50_000, 38), (9_999, 3_300, 9_000)] {
        let distribution = try Hypergeometric(population: population, successes: successes, draws: draws)
        let support = distribution.support
        var suffix = -Double.infinity
        var tails = [Int: Double]()
        for x in support.reversed() {
            suffix = LogMath.logAddExp(suffix, distribution.logProbability(x))
            tails[x] = suffix / LogMath.ln2
        }
        #expect(abs(suffix) < 1e-9)  // the pmf sums to 1
        for x in stride(from: support.lowerBound, through: support.upperBound, by: max(1, support.count / 97)) {
            let expected = tails[x] ?? 0
            let computed = distribution.log2UpperTail(atLeast: x)
            #expect(abs(computed - expected) <= 1e-8 * max(1, abs(expected)), "x=\(x)")
        }
    }
}

@Test func logFactorialIsContinuousAcrossStirlingSwitch() {
    var direct = 0.0
    for m in 1...2000 {
        direct += log(Double(m))
        #expect(abs(LogMath.logFactorial(m) - direct) <= 1e-9 * direct)
    }
    #expect(abs(LogMath.logFactorial(255) + log(256.0) - LogMath.logFactorial(256)) < 1e-10)
}

@Test func invalidDistributionsAreRejected() {
    #expect(throws: GraphError.self) { try Hypergeometric(population: 10, successes: 11, draws: 3) }
    #expect(throws: GraphError.self) { try Hypergeometric(population: 10, successes: 3, draws: -1) }
    #expect(throws: GraphError.self) { try Hypergeometric(population: -1, successes: 0, draws: 0) }
}

/// Every removal set of size `removed` on the ring of H(n, k) (identity order), by brute force.
private func exactDisconnectionProbability(n: Int, k: Int, removed: Int) throws -> Double {
    let graph = try HararyGraph(clientCount: n, degree: k, seed: [UInt8](repeating: 0, count: 32))
    var disconnected = 0
    var total = 0
    for mask in 0..<(1 << n) where mask.nonzeroBitCount == removed {
        total += 1
        // Positions are a random permutation of clients, so removing clients = removing random positions:
        // it suffices to enumerate client sets.
        let alive = (1...n).filter { mask & (1 << ($0 - 1)) == 0 }.map { UInt32($0) }
        guard let first = alive.first else { continue }
        var seen: Set<UInt32> = [first]
        var stack = [first]
        let aliveSet = Set(alive)
        while let v = stack.popLast() {
            for w in graph.neighbours(of: v) where aliveSet.contains(w) && !seen.contains(w) {
                seen.insert(w)
                stack.append(w)
            }
        }
        if seen.count != alive.count { disconnected += 1 }
    }
    return Double(disconnected) / Double(total)
}

@Test func disconnectionBoundIsSound() throws {
    for (n, k, corrupt, dropped) in [(12, 2, 2, 2), (12, 4, 3, 3), (14, 4, 4, 4), (13, 6, 4, 3), (14, 2, 1, 1)] {
        let analysis = try Analysis(
            clientCount: n, corruptFraction: Double(corrupt) / Double(n) + 1e-9,
            dropoutFraction: Double(dropped) / Double(n) + 1e-9, model: .semiHonest, sigma: 40, eta: 20)
        #expect(analysis.corrupt == corrupt && analysis.dropped == dropped)
        let exact = try exactDisconnectionProbability(n: n, k: k, removed: corrupt + dropped)
        let bound = exp(analysis.logDisconnection(degree: k))
        #expect(exact <= bound * (1 + 1e-12), "n=\(n) k=\(k): exact \(exact) > bound \(bound)")
        if exact > 0 { #expect(bound < 40 * exact) }  // and not vacuous
    }
}
