import Foundation
import SecAggGraph

/// `graph/parameter_finder.json` and `graph/parameter_table.json`: the parameter finder (SPEC.md §10.3–§10.6),
/// inputs → graph, degree k, threshold t and the failure bounds as log2 (null: probability exactly 0), including
/// infeasible inputs with the two threshold bounds that cannot meet and out-of-range inputs with their error;
/// the second file is the table of §10.8 row for row.
enum ParameterFinderVectors {
    static let algorithm = "secagg-parameter-finder"

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        var clientCount: Int
        var corruptFraction: Double
        var dropoutFraction: Double
        /// `semiHonest` or `active`.
        var model: String
        var sigma: Int
        var eta: Int
        var sessionAttempts: Int
        /// Valid cases: C = ⌊γn⌋, D = ⌊δn⌋, the graph (`harary` or `complete`), k and t.
        var corruptClientCount: Int?
        var dropoutClientCount: Int?
        var graph: String?
        var degree: Int?
        var threshold: Int?
        /// log2 of the bounds of §10.4–§10.5 at (k, t); null when the probability is exactly 0.
        var log2ShareFailure: Double??
        var log2DisconnectionFailure: Double??
        var log2PrivacyFailure: Double??
        var log2CorrectnessFailure: Double??
        var result: String
        /// Invalid cases: `noFeasibleParameters`, `invalidClientCount` or `invalidParameter` (with `parameter`).
        var error: String?
        var parameter: String?
        /// `noFeasibleParameters`: on the complete graph privacy needs t ≥ privacyMinimumThreshold, recovery
        /// allows t ≤ recoveryMaximumThreshold, and the first exceeds the second.
        var privacyMinimumThreshold: Int?
        var recoveryMaximumThreshold: Int?

        enum CodingKeys: String, CodingKey {
            case tcId, comment, clientCount, corruptFraction, dropoutFraction, model, sigma, eta, sessionAttempts
            case corruptClientCount, dropoutClientCount, graph, degree, threshold
            case log2ShareFailure, log2DisconnectionFailure, log2PrivacyFailure, log2CorrectnessFailure
            case result, error, parameter, privacyMinimumThreshold, recoveryMaximumThreshold
        }

        init(
            tcId: Int, comment: String, clientCount: Int, corruptFraction: Double, dropoutFraction: Double,
            model: String, sigma: Int, eta: Int, sessionAttempts: Int
        ) {
            self.tcId = tcId
            self.comment = comment
            self.clientCount = clientCount
            self.corruptFraction = corruptFraction
            self.dropoutFraction = dropoutFraction
            self.model = model
            self.sigma = sigma
            self.eta = eta
            self.sessionAttempts = sessionAttempts
            result = "valid"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tcId = try c.decode(Int.self, forKey: .tcId)
            comment = try c.decode(String.self, forKey: .comment)
            clientCount = try c.decode(Int.self, forKey: .clientCount)
            corruptFraction = try c.decode(Double.self, forKey: .corruptFraction)
            dropoutFraction = try c.decode(Double.self, forKey: .dropoutFraction)
            model = try c.decode(String.self, forKey: .model)
            sigma = try c.decode(Int.self, forKey: .sigma)
            eta = try c.decode(Int.self, forKey: .eta)
            sessionAttempts = try c.decode(Int.self, forKey: .sessionAttempts)
            corruptClientCount = try c.decodeIfPresent(Int.self, forKey: .corruptClientCount)
            dropoutClientCount = try c.decodeIfPresent(Int.self, forKey: .dropoutClientCount)
            graph = try c.decodeIfPresent(String.self, forKey: .graph)
            degree = try c.decodeIfPresent(Int.self, forKey: .degree)
            threshold = try c.decodeIfPresent(Int.self, forKey: .threshold)
            func log2(_ key: CodingKeys) throws -> Double?? {
                guard c.contains(key) else { return nil }
                return .some(try c.decodeNil(forKey: key) ? nil : c.decode(Double.self, forKey: key))
            }
            log2ShareFailure = try log2(.log2ShareFailure)
            log2DisconnectionFailure = try log2(.log2DisconnectionFailure)
            log2PrivacyFailure = try log2(.log2PrivacyFailure)
            log2CorrectnessFailure = try log2(.log2CorrectnessFailure)
            result = try c.decode(String.self, forKey: .result)
            error = try c.decodeIfPresent(String.self, forKey: .error)
            parameter = try c.decodeIfPresent(String.self, forKey: .parameter)
            privacyMinimumThreshold = try c.decodeIfPresent(Int.self, forKey: .privacyMinimumThreshold)
            recoveryMaximumThreshold = try c.decodeIfPresent(Int.self, forKey: .recoveryMaximumThreshold)
        }

        /// Absent optionals are left out; a present log2 of probability 0 is written as null.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(tcId, forKey: .tcId)
            try c.encode(comment, forKey: .comment)
            try c.encode(clientCount, forKey: .clientCount)
            try c.encode(corruptFraction, forKey: .corruptFraction)
            try c.encode(dropoutFraction, forKey: .dropoutFraction)
            try c.encode(model, forKey: .model)
            try c.encode(sigma, forKey: .sigma)
            try c.encode(eta, forKey: .eta)
            try c.encode(sessionAttempts, forKey: .sessionAttempts)
            try c.encodeIfPresent(corruptClientCount, forKey: .corruptClientCount)
            try c.encodeIfPresent(dropoutClientCount, forKey: .dropoutClientCount)
            try c.encodeIfPresent(graph, forKey: .graph)
            try c.encodeIfPresent(degree, forKey: .degree)
            try c.encodeIfPresent(threshold, forKey: .threshold)
            for (value, key) in [
                (log2ShareFailure, CodingKeys.log2ShareFailure), (log2DisconnectionFailure, .log2DisconnectionFailure),
                (log2PrivacyFailure, .log2PrivacyFailure), (log2CorrectnessFailure, .log2CorrectnessFailure),
            ] {
                guard let value else { continue }
                if let value { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
            }
            try c.encode(result, forKey: .result)
            try c.encodeIfPresent(error, forKey: .error)
            try c.encodeIfPresent(parameter, forKey: .parameter)
            try c.encodeIfPresent(privacyMinimumThreshold, forKey: .privacyMinimumThreshold)
            try c.encodeIfPresent(recoveryMaximumThreshold, forKey: .recoveryMaximumThreshold)
        }
    }

    struct Group: Codable, Sendable {
        /// Checkers compare the log2 values within this absolute tolerance (§10.5: the tails are exact to well
        /// below it); k, t and the graph must match exactly.
        var log2Tolerance: Double
        var tests: [Test]
    }

    static func log2(_ p: Log2Probability) -> Double? { p.isZero ? nil : p.value }

    /// Runs the finder and fills in the outputs (or the error) of `test`.
    static func solve(_ input: Test) -> Test {
        var test = input
        let model: AdversaryModel = test.model == "active" ? .active : .semiHonest
        do {
            let p = try ParameterFinder.find(
                clientCount: test.clientCount, corruptFraction: test.corruptFraction,
                dropoutFraction: test.dropoutFraction, model: model, sigma: test.sigma, eta: test.eta,
                sessionAttempts: test.sessionAttempts)
            test.result = "valid"
            test.corruptClientCount = p.corruptClientCount
            test.dropoutClientCount = p.dropoutClientCount
            test.graph = p.graph == .complete ? "complete" : "harary"
            test.degree = p.degree
            test.threshold = p.threshold
            test.log2ShareFailure = .some(log2(p.shareFailure))
            test.log2DisconnectionFailure = .some(log2(p.disconnectionFailure))
            test.log2PrivacyFailure = .some(log2(p.privacyFailure))
            test.log2CorrectnessFailure = .some(log2(p.correctnessFailure))
        } catch {
            test.result = "invalid"
            switch error {
            case .noFeasibleParameters:
                test.error = "noFeasibleParameters"
                // The two bounds of §10.5 on the complete graph, from the counts.
                let n = test.clientCount
                let k = n - 1
                let c = min(n - 1, Int((test.corruptFraction * Double(n)).rounded(.down)))
                let d = min(n - 1, Int((test.dropoutFraction * Double(n)).rounded(.down)))
                test.privacyMinimumThreshold = max(model == .active ? (k + c) / 2 + 1 : c + 1, 2)
                test.recoveryMaximumThreshold = k - d
            case .invalidClientCount: test.error = "invalidClientCount"
            case let .invalidParameter(name, _, _):
                test.error = "invalidParameter"
                test.parameter = name
            default: test.error = "\(error)"
            }
        }
        return test
    }

    struct Generator: VectorGenerator {
        let relativePath: String
        let table: Bool

        func generate() throws -> Data {
            var inputs: [(Int, Double, Double, String, Int, Int, Int, String)] = []
            if table {
                for model in ["semiHonest", "active"] {
                    for fraction in [0.05, 0.33] {
                        for n in [100, 1_000, 10_000, 100_000, 1_000_000] {
                            inputs.append((n, fraction, fraction, model, 40, 20, 1, "SPEC.md §10.8 row"))
                        }
                    }
                }
            } else {
                inputs = [
                    (2, 0, 0, "semiHonest", 40, 20, 1, "smallest cohort: only the complete graph"),
                    (3, 0, 0, "active", 40, 20, 1, "n = 3: no sparse degree (k ≤ n − 2 = 1)"),
                    (4, 0, 0, "semiHonest", 40, 20, 1, "n = 4: H(4, 2) with t = 2"),
                    (20, 0.1, 0.1, "semiHonest", 40, 20, 1, "small cohort, sparse"),
                    (50, 0.33, 0.33, "active", 40, 20, 1, "active at γ = δ = 0.33, n = 50: the complete graph"),
                    (211, 0, 0.1, "semiHonest", 40, 20, 1, "D = 21 of 210 others (§10.6 monotonicity example)"),
                    (212, 0, 0.1, "semiHonest", 40, 20, 1, "D = 21 of 211 others: a smaller k"),
                    (500, 0.1, 0.2, "active", 40, 20, 1, "active, unequal fractions"),
                    (1_000, 0.05, 0.05, "semiHonest", 40, 20, 1024, "2^10 session attempts: σ + 10 bits"),
                    (1_000, 0.05, 0.05, "semiHonest", 20, 10, 1, "σ = 20, η = 10"),
                    (1_000, 0.05, 0.05, "active", 80, 40, 1, "σ = 80, η = 40"),
                    (3_000, 0.3, 0.3, "active", 40, 20, 1, "§10.6 flicker example (k above the linear scan)"),
                    (5_000, 0.2, 0.1, "semiHonest", 40, 20, 1, "semi-honest, γ > δ"),
                    (100_000, 0, 0, "semiHonest", 40, 20, 1, "no corruption, no dropout: the smallest degree"),
                    (100, 0.33, 0.33, "active", 40, 20, 1, "infeasible: γ + 2δ ≥ 1 on 100 clients"),
                    (10, 0.5, 0.5, "semiHonest", 40, 20, 1, "infeasible: C + D ≥ n − 1"),
                    (1_000, 0.4, 0.3, "active", 40, 20, 1, "infeasible: active, γ + 2δ = 1"),
                    (1, 0, 0, "semiHonest", 40, 20, 1, "invalid: one client"),
                    (16_777_217, 0, 0, "semiHonest", 40, 20, 1, "invalid: 2^24 + 1 clients"),
                    (100, 1, 0, "semiHonest", 40, 20, 1, "invalid: γ = 1"),
                    (100, 0, -0.1, "semiHonest", 40, 20, 1, "invalid: δ < 0"),
                    (100, 0, 0, "semiHonest", 0, 20, 1, "invalid: σ = 0"),
                    (100, 0, 0, "semiHonest", 40, 1001, 1, "invalid: η = 1001"),
                    (100, 0, 0, "semiHonest", 40, 20, 0, "invalid: no session attempt"),
                    (1, 2, 0, "semiHonest", 0, 20, 1, "invalid three ways: the client count is checked first"),
                    (100, 0.5, 2, "semiHonest", 0, 20, 1, "invalid: γ checked before δ, δ before σ"),
                ]
            }
            var tests: [Test] = []
            for (n, gamma, delta, model, sigma, eta, attempts, comment) in inputs {
                let test = Test(
                    tcId: tests.count + 1, comment: comment, clientCount: n, corruptFraction: gamma,
                    dropoutFraction: delta, model: model, sigma: sigma, eta: eta, sessionAttempts: attempts)
                tests.append(ParameterFinderVectors.solve(test))
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: ParameterFinderVectors.algorithm,
                    generator: "secagg vectors generate (Sources/SecAggVectors/Protocol); outputs from "
                        + "SecAggGraph.ParameterFinder.find",
                    header: (table
                        ? "The table of SPEC.md §10.8 (σ = 40, η = 20, γ = δ), row for row. "
                        : "The parameter finder (SPEC.md §10.3–§10.6). ")
                        + "Inputs: n, γ, δ, model (semiHonest or active), σ, η and the session attempts A. Valid: "
                        + "C = ⌊γn⌋, D = ⌊δn⌋, the graph (harary or complete), degree k and threshold t (exact), and "
                        + "log2 of p_shares, p_disconnect, p_privacy and p_correctness at (k, t) (within "
                        + "log2Tolerance; null = probability exactly 0). Invalid: error is the GraphError case "
                        + "(invalidClientCount, invalidParameter with parameter, or noFeasibleParameters with the "
                        + "complete graph's privacyMinimumThreshold > recoveryMaximumThreshold).",
                    testGroups: [Group(log2Tolerance: 1e-6, tests: tests)], testCount: tests.count))
        }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { ParameterFinderVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                for expected in group.tests {
                    try reader.result(expected.result, caseId: expected.tcId)
                    let actual = ParameterFinderVectors.solve(expected)
                    func close(_ a: Double??, _ b: Double??) -> Bool {
                        switch (a, b) {
                        case (nil, nil): true
                        case let (.some(x), .some(y)):
                            switch (x, y) {
                            case (nil, nil): true
                            case let (x?, y?): abs(x - y) <= group.log2Tolerance
                            default: false
                            }
                        default: false
                        }
                    }
                    let passed =
                        actual.result == expected.result && actual.graph == expected.graph
                        && actual.degree == expected.degree && actual.threshold == expected.threshold
                        && actual.corruptClientCount == expected.corruptClientCount
                        && actual.dropoutClientCount == expected.dropoutClientCount
                        && close(actual.log2ShareFailure, expected.log2ShareFailure)
                        && close(actual.log2DisconnectionFailure, expected.log2DisconnectionFailure)
                        && close(actual.log2PrivacyFailure, expected.log2PrivacyFailure)
                        && close(actual.log2CorrectnessFailure, expected.log2CorrectnessFailure)
                        && actual.error == expected.error && actual.parameter == expected.parameter
                        && actual.privacyMinimumThreshold == expected.privacyMinimumThreshold
                        && actual.recoveryMaximumThreshold == expected.recoveryMaximumThreshold
                    recorder.record(
                        expected.tcId, passed,
                        "got \(actual.error ?? "\(actual.graph ?? "?") k = \(actual.degree ?? 0), t = \(actual.threshold ?? 0)")"
                    )
                }
            }
            return recorder.results
        }
    }
}
