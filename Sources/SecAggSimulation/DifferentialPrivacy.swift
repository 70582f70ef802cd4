import Foundation
import SecAggCrypto
public import SecAggPrivacy
import SecureAggregation
import Synchronization

/// The distributed-DP options of `secagg plan` and `secagg simulate` (`--dp-epsilon` and friends).
public struct DPOptions: Sendable, Hashable {
    /// DDGauss (the default) or Skellam.
    public var mechanism: DistributedMechanism = .ddgauss
    /// Target ε over all rounds.
    public var epsilon: Double
    /// Target δ.
    public var delta: Double
    /// Rounds T the guarantee composes over.
    public var rounds = 1
    /// The L2 clip norm C of one update.
    public var clipNorm = 1.0
    /// The fraction of the n clients assumed to add no noise; nil means the corrupt fraction γ when one is
    /// given, else 0.
    public var noiselessFraction: Double?

    /// ε and δ, one round, C = 1, DDGauss.
    public init(epsilon: Double, delta: Double) {
        self.epsilon = epsilon
        self.delta = delta
    }
}

/// The `dp` object of `secagg plan --json` and `secagg simulate --json`.
public struct DPReport: Sendable, Codable, Hashable {
    /// "ddgauss" or "skellam".
    public var mechanism: String
    /// ε reached over `rounds` (≤ the target), counting the honest clients' noise.
    public var epsilon: Double
    /// The requested ε.
    public var epsilonTarget: Double
    /// δ.
    public var delta: Double
    /// T.
    public var rounds: Int
    /// The RDP order that gives ε.
    public var rdpOrder: Double
    /// γ: the integer grid step is 1/γ.
    public var gamma: Double
    /// The L2 clip norm C.
    public var clipNorm: Double
    /// D: the padded length clients send.
    public var paddedLength: Int
    /// Δ₂: the L2 bound of every rounded vector.
    public var l2Bound: Double
    /// β of the rounding bound.
    public var beta: Double
    /// The noise of each client: "N_Z(0, num/den)" or "Sk(num/den)".
    public var noise: String
    /// Per-client noise variance in integer units (σ², or 2λ).
    public var noiseVariance: Double
    /// The fewest clients a session can finish with (t + 1): the noise is calibrated for them.
    public var clientsCalibrated: Int
    /// Of those, the clients whose noise counts (the rest are assumed noiseless).
    public var honestClients: Int
    /// Planned noise standard deviation of the decoded sum (for the included clients in a simulation, all n
    /// in a plan).
    public var noiseStddevPlanned: Double
    /// Measured standard deviation of (decoded sum − plaintext sum of the clipped updates) (simulation only).
    public var noiseStddevMeasured: Double?
    /// Mean-squared error per coordinate of the decoded mean: measured against the plaintext mean in a
    /// simulation, planned (rounding at its worst) in a plan.
    public var mse: Double
    /// The planned mean-squared error (simulation only, for the included clients).
    public var msePlanned: Double?
    /// log₂ of the proven bound on the wrap probability (sum of n clients).
    public var wrapProbabilityLog2: Double
    /// Coordinates whose exact integer sum left the ring's centered range (simulation only; must be 0).
    public var wraps: Int?
    /// Updates that were clipped to C (simulation only).
    public var clippedUpdates: Int?
    /// σ of the central Gaussian mechanism at the same (ε, δ, T) on the exact sum (sensitivity C).
    public var centralGaussianStddev: Double
    /// Its mean-squared error per coordinate of the mean of n clients.
    public var centralMse: Double
    /// The smallest Z_2^b whose plan is within 10% of the mean-squared error at 64 bits (plan only).
    public var bitsNeeded: Int?

    enum CodingKeys: String, CodingKey {
        case mechanism, epsilon, delta, rounds, gamma, beta, noise, mse, wraps
        case epsilonTarget = "epsilon_target"
        case rdpOrder = "rdp_order"
        case clipNorm = "clip_norm"
        case paddedLength = "padded_length"
        case l2Bound = "l2_bound"
        case noiseVariance = "noise_variance"
        case clientsCalibrated = "clients_calibrated"
        case honestClients = "honest_clients"
        case noiseStddevPlanned = "noise_stddev_planned"
        case noiseStddevMeasured = "noise_stddev_measured"
        case msePlanned = "mse_planned"
        case wrapProbabilityLog2 = "wrap_probability_log2"
        case clippedUpdates = "clipped_updates"
        case centralGaussianStddev = "central_gaussian_stddev"
        case centralMse = "central_mse"
        case bitsNeeded = "bits_needed"
    }

    /// The report of a plan (all n clients included).
    init(plan: PrivacyPlan) {
        let request = plan.request
        let noise: String
        switch plan.encoding.noise {
        case let .discreteGaussian(n, d): noise = "N_Z(0, \(n)/\(d))"
        case let .skellam(n, d): noise = "Sk(\(n)/\(d))"
        }
        mechanism = request.mechanism.rawValue
        epsilon = plan.epsilon
        epsilonTarget = request.epsilon
        delta = request.delta
        rounds = request.rounds
        rdpOrder = plan.order
        gamma = plan.encoding.scale
        clipNorm = request.clipNorm
        paddedLength = plan.encoding.paddedDimension
        l2Bound = plan.encoding.l2Bound
        beta = plan.beta
        self.noise = noise
        noiseVariance = plan.noiseVariance
        clientsCalibrated = request.minimumClientCount
        honestClients = request.honestClientCount
        noiseStddevPlanned = plan.noiseStddev(includedClientCount: request.clientCount)
        mse = plan.meanSquaredError
        wrapProbabilityLog2 = plan.wrapProbabilityLog2
        centralGaussianStddev = plan.centralGaussianStddev
        centralMse = plan.centralMeanSquaredError
    }

    /// Lines for the text summaries.
    var lines: [String] {
        var lines = [
            "  differential privacy: \(mechanism), target (ε = \(epsilonTarget), δ = \(delta)) over \(rounds) round(s); "
                + "ε reached \(short(epsilon)) (RDP order \(Int(rdpOrder)))",
            "    noise calibrated for the \(clientsCalibrated) clients a session can finish with, \(honestClients) of them "
                + "honest; each client adds "
                + (mechanism == DistributedMechanism.ddgauss.rawValue
                    ? "N_Z(0, σ²), σ = \(short(noiseVariance.squareRoot()))"
                    : "Sk(λ) = Pois(λ) − Pois(λ), λ = \(short(noiseVariance / 2))") + " per coordinate",
            "    ‖x‖₂ clipped to \(clipNorm), rotated (length \(paddedLength)), scaled by γ = \(short(gamma)), "
                + "rounded to ‖z‖₂ ≤ \(short(l2Bound)) (β = \(short(beta)))",
            "    P[the sum wraps] ≤ 2^\(short(wrapProbabilityLog2))",
        ]
        var noiseLine = "    noise std of the decoded sum: planned \(short(noiseStddevPlanned))"
        if let noiseStddevMeasured { noiseLine += ", measured \(short(noiseStddevMeasured))" }
        lines.append(noiseLine)
        var errorLine =
            "    MSE of the mean per coordinate: \(msePlanned == nil ? "planned" : "measured") \(short(mse))"
        if let msePlanned { errorLine += " (planned \(short(msePlanned)))" }
        errorLine +=
            "; central Gaussian at the same (ε, δ, T): σ = \(short(centralGaussianStddev)), MSE \(short(centralMse))"
        lines.append(errorLine)
        if let wraps { lines.append("    coordinates that wrapped: \(wraps)") }
        if let clippedUpdates { lines.append("    updates clipped to C: \(clippedUpdates)") }
        if let bitsNeeded { lines.append("    bits needed (MSE within 10% of 64 bits): \(bitsNeeded)") }
        return lines
    }
}

/// Planning the distributed-DP encoding of a cohort.
enum DPPlanning {
    /// The privacy request of a cohort: noise calibrated for t + 1 clients (the fewest a session finishes
    /// with), of which ⌊f·n⌋ are assumed noiseless.
    static func request(
        _ dp: DPOptions, clientCount n: Int, threshold: Int, corruptFraction: Double?, dimension: Int,
        modulus: RingModulus
    ) throws(SimulationError) -> PrivacyPlanRequest {
        let fraction = dp.noiselessFraction ?? corruptFraction ?? 0
        guard fraction >= 0, fraction < 1 else {
            throw .invalidArgument("--dp-noiseless must lie in [0, 1), got \(fraction)")
        }
        return PrivacyPlanRequest(
            mechanism: dp.mechanism, epsilon: dp.epsilon, delta: dp.delta, rounds: dp.rounds, clientCount: n,
            minimumClientCount: min(n, threshold + 1), noiselessClientCount: Int((fraction * Double(n)).rounded(.down)),
            dimension: dimension, clipNorm: dp.clipNorm, modulus: modulus)
    }

    static func plan(_ request: PrivacyPlanRequest) throws(SimulationError) -> PrivacyPlan {
        do {
            return try PrivacyPlan.plan(request)
        } catch {
            switch error {
            case .infeasiblePlan: throw .infeasiblePlan(error.description)
            default: throw .invalidArgument(error.description)
            }
        }
    }
}

/// Synthetic real-valued updates, privatized (SPEC.md §14): client u's update has coordinates
/// 2·(w >> 11)·2^−53 − 1 from `DRBG(SHA-256("secagg/simulate/dp-input" || master || LE32(u)))`, scaled to
/// L2 norm C·(1 + r)/2 with r the next such uniform in [0, 1) (so nothing is clipped); its noise stream is
/// `DRBG(SHA-256("secagg/simulate/dp-noise" || master || LE32(u)))`. Encodings are computed when the runner
/// asks for a client's input (the session id is known then) and kept until its masked input is accepted.
final class PrivateSyntheticInputs: InputSource, Sendable {
    let plan: PrivacyPlan
    let seed: [UInt8]
    let dimension: Int

    private struct State {
        var sessionID: [UInt8]?
        var pending: [UInt32: PrivateUpdate] = [:]
        var clippedSum: [Double]
        var integerSum: [Int64]
        var clipped = 0
        var accepted = 0
    }
    private let state: Mutex<State>

    init(plan: PrivacyPlan, seed: [UInt8]) {
        self.plan = plan
        self.seed = seed
        dimension = plan.encoding.dimension
        state = Mutex(
            State(
                clippedSum: [Double](repeating: 0, count: plan.encoding.dimension),
                integerSum: [Int64](repeating: 0, count: plan.encoding.paddedDimension)))
    }

    var specifications: [InputSpecification] {
        [InputSpecification(name: "input", length: plan.encoding.paddedDimension, modulus: plan.encoding.modulus)]
    }

    /// Client u's update (unclipped: its norm is below C).
    func update(of client: UInt32) throws(SimulationError) -> [Double] {
        var bytes = Array("secagg/simulate/dp-input".utf8) + seed
        appendLittleEndian(client, to: &bytes)
        guard let stream = try? NoiseStream(seed: Hkdf.sha256(bytes)) else { throw .configuration("seed") }
        var x = (0..<dimension).map { _ in 2 * Double(stream.nextWord() >> 11) * 0x1p-53 - 1 }
        let target = plan.encoding.clipNorm * (1 + Double(stream.nextWord() >> 11) * 0x1p-53) / 2
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { x = x.map { $0 * target / norm } }
        return x
    }

    func input(for client: UInt32) throws(SimulationError) -> [[UInt64]] {
        throw .configuration("internal: private inputs need the session id")
    }

    func input(for client: UInt32, sessionID: [UInt8]?) throws(SimulationError) -> [[UInt64]] {
        guard let sessionID else { throw .configuration("client \(client) has no session id at masked input") }
        let x = try update(of: client)
        var bytes = Array("secagg/simulate/dp-noise".utf8) + seed
        appendLittleEndian(client, to: &bytes)
        let encoded: PrivateUpdate
        do {
            var noise = try NoiseStream(seed: Hkdf.sha256(bytes))
            encoded = try plan.encoding.encode(
                x, rotationSeed: RandomizedHadamard.rotationSeed(sessionID: sessionID), noise: &noise)
        } catch {
            throw .configuration("client \(client): \(error)")
        }
        state.withLock { state in
            if state.sessionID == nil { state.sessionID = sessionID }
            state.pending[client] = encoded
        }
        return [encoded.elements]
    }

    func accumulate(_ client: UInt32, into total: inout [[UInt64]]) throws(SimulationError) {
        guard let encoded = state.withLock({ $0.pending.removeValue(forKey: client) }) else {
            throw .configuration("internal: client \(client)'s input was accepted before it was computed")
        }
        let x = try update(of: client)
        let modulus = plan.encoding.modulus
        total[0].withUnsafeMutableBufferPointer { sum in
            for i in 0..<encoded.elements.count { sum[i] = modulus.add(sum[i], encoded.elements[i]) }
        }
        state.withLock { state in
            for i in 0..<x.count { state.clippedSum[i] += x[i] }
            for i in 0..<encoded.integers.count { state.integerSum[i] &+= encoded.integers[i] }
            if encoded.wasClipped { state.clipped += 1 }
            state.accepted += 1
        }
    }

    /// The session id the clients used, the plaintext sum of the accepted clients' updates, the exact integer
    /// sum of their encodings, and how many were clipped.
    var totals: (sessionID: [UInt8]?, clippedSum: [Double], integerSum: [Int64], clipped: Int) {
        state.withLock { ($0.sessionID, $0.clippedSum, $0.integerSum, $0.clipped) }
    }
}

extension Simulator {
    /// A synthetic session with distributed DP: plans the encoding for the session's threshold, runs the
    /// protocol on privatized updates, verifies the aggregate (ring sum of exactly the included clients'
    /// encodings), decodes the mean and measures its noise, error and wraps against the plaintext.
    static func runPrivate(
        _ options: SimulationOptions, dp: DPOptions, seed: UInt64, masterSeed: [UInt8],
        progress: (@Sendable (SimulationProgress) -> Void)?
    ) throws(SimulationError) -> SimulationReport {
        let n = options.clientCount ?? SimulationOptions.defaultClientCount
        let length = options.vectorLength ?? SimulationOptions.defaultVectorLength
        guard length >= 1, length <= PrivacyEncoding.maximumDimension else {
            throw .invalidArgument("--length must be in 1...\(PrivacyEncoding.maximumDimension), got \(length)")
        }
        let graphPlan = try GraphPlan.choose(
            clientCount: n, graph: options.graph, model: options.model, corruptFraction: options.corruptFraction,
            dropoutBound: options.effectiveDropoutBound, threshold: options.threshold)
        let request = try DPPlanning.request(
            dp, clientCount: n, threshold: graphPlan.threshold, corruptFraction: options.corruptFraction,
            dimension: length, modulus: options.modulus)
        let plan = try DPPlanning.plan(request)
        let source = PrivateSyntheticInputs(plan: plan, seed: masterSeed)
        var (report, result, _) = try run(
            options, clientCount: n, source: source, seed: seed, masterSeed: masterSeed, progress: progress)
        var dpReport = DPReport(plan: plan)
        guard let result, report.verified, let aggregate = result.vectors.first else {
            report.dp = dpReport
            return report
        }
        let included = result.includedClients.count
        let totals = source.totals
        let half = Int64(plan.encoding.centeredBound)
        let wraps = totals.integerSum.reduce(0) { $0 + ($1 > half || $1 < -half ? 1 : 0) }
        let decoded: [Double]
        do {
            decoded = try plan.decodeMean(
                aggregate, includedClientCount: included,
                rotationSeed: RandomizedHadamard.rotationSeed(sessionID: totals.sessionID ?? []))
        } catch {
            report.verified = false
            report.verificationFailure = "decoding failed: \(error)"
            report.dp = dpReport
            return report
        }
        var squaredError = 0.0
        var meanError = 0.0
        var sumSquares = 0.0
        for i in 0..<length {
            let sumError = decoded[i] * Double(included) - totals.clippedSum[i]
            meanError += sumError
            sumSquares += sumError * sumError
            let meanDifference = decoded[i] - totals.clippedSum[i] / Double(included)
            squaredError += meanDifference * meanDifference
        }
        let average = meanError / Double(length)
        dpReport.noiseStddevPlanned = plan.noiseStddev(includedClientCount: included)
        dpReport.noiseStddevMeasured = (sumSquares / Double(length) - average * average).squareRoot()
        dpReport.mse = squaredError / Double(length)
        dpReport.msePlanned = plan.meanSquaredError(includedClientCount: included)
        dpReport.wraps = wraps
        dpReport.clippedUpdates = totals.clipped
        report.dp = dpReport
        if wraps > 0 {
            report.verified = false
            report.verificationFailure = "\(wraps) coordinates of the noisy sum wrapped modulo \(plan.encoding.modulus)"
        }
        return report
    }
}

/// Four significant digits, or scientific notation for very large and very small values.
func short(_ value: Double) -> String {
    if value == 0 || !value.isFinite { return "\(value)" }
    if abs(value) >= 1e6 || abs(value) < 1e-3 { return String(format: "%.4g", value) }
    return String(format: "%.5g", value)
}
