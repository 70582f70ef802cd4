import Foundation
import SecAggCrypto
import SecAggPrivacy
import SecAggSimulation
import SecureAggregation
import Testing

/// End to end through the engine with distributed DP (a short run; `.ci/run` runs n = 100, d = 10^5 in a
/// release build through the command-line tool).
struct PrivateSimulationTests {
    @Test(arguments: DistributedMechanism.allCases)
    func privateSessionMeetsItsPlan(_ mechanism: DistributedMechanism) throws {
        var options = SimulationOptions()
        options.clientCount = 30
        options.vectorLength = 2000
        options.seed = 11
        options.drops = [DropSpecification(fraction: 0.1, round: .shareKeys)]
        var dp = DPOptions(epsilon: 2, delta: 1e-4)
        dp.mechanism = mechanism
        dp.rounds = 5
        options.dp = dp
        let report = try Simulator.run(options)
        #expect(report.verified, "\(report.verificationFailure ?? report.abortReason ?? "")")
        let result = try #require(report.dp)
        #expect(result.mechanism == mechanism.rawValue)
        #expect(result.epsilon <= 2)
        #expect(result.wraps == 0)
        #expect(result.wrapProbabilityLog2 <= -40)
        #expect(result.clippedUpdates == 0)
        // t = ⌈2·29/3⌉ = 20: the noise is calibrated for 21 clients.
        #expect(result.clientsCalibrated == report.threshold + 1)
        #expect(report.included == 27)
        // 2048 coordinates: the measured std has a relative standard error of about 1.6%.
        let measured = try #require(result.noiseStddevMeasured)
        #expect(abs(measured / result.noiseStddevPlanned - 1) < 0.05, "\(measured) vs \(result.noiseStddevPlanned)")
        let planned = try #require(result.msePlanned)
        #expect(abs(result.mse / planned - 1) < 0.1)
        // The JSON carries the keys of the issue.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        let keys = Set((json?["dp"] as? [String: Any] ?? [:]).keys)
        for key in [
            "mechanism", "epsilon", "delta", "rounds", "gamma", "noise_stddev_planned", "noise_stddev_measured", "mse",
            "wrap_probability_log2",
        ] {
            #expect(keys.contains(key), "missing \(key)")
        }
    }

    /// Same seed, same run; DP with file inputs or the file-only flags is refused with a clear error.
    @Test func privateSessionsAreReproducibleAndRefuseFileFlags() throws {
        var options = SimulationOptions()
        options.clientCount = 10
        options.vectorLength = 100
        options.seed = 3
        options.dp = DPOptions(epsilon: 4, delta: 1e-3)
        let a = try Simulator.run(options)
        let b = try Simulator.run(options)
        #expect(a.dp?.noiseStddevMeasured == b.dp?.noiseStddevMeasured && a.dp?.mse == b.dp?.mse)
        var files = options
        files.inputsDirectory = URL(fileURLWithPath: "/tmp")
        #expect(throws: SimulationError.self) { try Simulator.run(files) }
        var clip = options
        clip.clip = .fixed(1)
        #expect(throws: SimulationError.self) { try Simulator.run(clip) }
        var impossible = options
        impossible.modulus = .powerOfTwo(bitWidth: 4)  // H = 7 < n = 10: any sum can wrap
        #expect(throws: SimulationError.self) { try Simulator.run(impossible) }
    }

    /// `secagg plan` with DP: the dp object replaces the quantization, the threshold sets the calibration,
    /// and the cost counts the padded length.
    @Test func planReportsTheDPEncoding() throws {
        var options = PlanOptions()
        options.clientCount = 100
        options.vectorLength = 1000
        options.dropoutBound = 0.1
        options.dp = DPOptions(epsilon: 1, delta: 1e-4)
        let report = try Planner.plan(options)
        #expect(report.quantization == nil)
        let dp = try #require(report.dp)
        #expect(dp.clientsCalibrated == report.graph.t + 1)
        #expect(dp.clientsCalibrated == 90)
        #expect(dp.paddedLength == 1024)
        #expect(report.clientCost.maskedInputBytes == 1024 * 4)
        #expect(dp.bitsNeeded != nil)
        #expect(report.description.contains("differential privacy: ddgauss"))
        options.dp?.noiselessFraction = 0.2
        #expect(try Planner.plan(options).dp?.honestClients == 70)
    }
}
