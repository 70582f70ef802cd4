import SecAggCrypto
import SecureAggregation
import Testing

/// 500+ random dropout schedules on the complete graph: the aggregate is exact whenever the run
/// completes, and the run aborts exactly when some live set falls below t + 1 clients (every client needs
/// t live neighbours).
@Test func randomDropoutSchedules() throws {
    var rng = DeterministicRandomGenerator(testLabel: "dropout schedules")
    let moduli: [RingModulus] = [.powerOfTwo(bitWidth: 16), .integer(65_521), .powerOfTwo(bitWidth: 61)]
    var completed = 0
    var aborted = 0
    for schedule in 0..<520 {
        let n = 4 + Int(rng.next(below: 6))
        let model: SecurityModel = schedule % 4 == 3 ? .active : .semiHonest
        // Every threshold the engine accepts (SPEC.md §11.1): t ≥ 2, and 2t > k = n − 1 in the active model.
        let lowest = model == .active ? (n - 1) / 2 + 1 : 2
        let t = lowest + Int(rng.next(below: UInt64(n - lowest)))
        let inputs = [
            InputSpecification(name: "a", length: 1 + Int(rng.next(below: 12)), modulus: moduli[schedule % 3]),
            InputSpecification(name: "b", length: 3, modulus: moduli[(schedule + 1) % 3]),
        ]
        let (config, keys) = SessionDriver.makeConfiguration(n: n, t: t, model: model, inputs: inputs, rng: &rng)
        let values = SessionDriver.randomInputs(config, rng: &rng)
        let rounds = config.rounds
        var drops: [UInt32: ProtocolRound] = [:]
        for u in 1...UInt32(n) where rng.next(below: 3) == 0 {
            drops[u] = rounds[Int(rng.next(below: UInt64(rounds.count)))]
        }
        var driver = SessionDriver(configuration: config, inputs: values, signingKeys: keys, dropAt: drops)
        driver.seedLabel = "schedule \(schedule)"
        let outcome = try driver.run()

        // Expected: live count after each round, abort iff some is below t + 1.
        var alive = Set(1...UInt32(n))
        var shouldAbort = false
        var included: [UInt32] = []
        for round in rounds {
            alive = alive.filter { drops[$0] != round }
            if alive.count < t + 1 { shouldAbort = true }
            if round == .maskedInputCollection { included = alive.sorted() }
            if shouldAbort { break }
        }
        #expect(outcome.clientErrors.isEmpty, "schedule \(schedule): \(outcome.clientErrors)")
        if shouldAbort {
            aborted += 1
            #expect(outcome.result == nil, "schedule \(schedule) should abort")
            if case .insufficientClients = outcome.serverError {
            } else {
                Issue.record(
                    "schedule \(schedule): expected insufficientClients, got \(String(describing: outcome.serverError))"
                )
            }
        } else {
            completed += 1
            let result = try #require(
                outcome.result, "schedule \(schedule) aborted: \(String(describing: outcome.serverError))")
            #expect(result.includedClients.map(\.rawValue) == included)
            #expect(result.vectors == driver.expectedSum(of: included), "schedule \(schedule)")
        }
    }
    // Both outcomes must actually be exercised.
    #expect(completed > 100)
    #expect(aborted > 30)
}
