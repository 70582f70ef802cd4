public import Foundation
import SecAggCrypto
import SecAggQuantization
import SecAggSessionRunner
import SecureAggregation

/// Model updates from files, quantized on demand: client u's update is read, flattened by the folder's
/// layout and quantized with stochastic rounding drawn from a generator seeded with
/// SHA-256("secagg/simulate/quantize" || master seed || LE32(u)), so both calls below see the same vector.
struct FileInputs: InputSource {
    let folder: UpdateFolder
    let plan: QuantizationPlan
    let seed: [UInt8]

    var specifications: [InputSpecification] {
        [
            InputSpecification(
                name: UpdateFolder.npyTensorName, length: plan.vectorLength(valueCount: folder.layout.elementCount),
                modulus: plan.modulus)
        ]
    }

    func quantized(_ client: UInt32) throws(SimulationError) -> [UInt64] {
        let index = Int(client) - 1
        let values = try folder.values(ofClientAt: index)
        var bytes = Array("secagg/simulate/quantize".utf8) + seed
        appendLittleEndian(client, to: &bytes)
        do {
            var rng = try DeterministicRandomGenerator(seed: Hkdf.sha256(bytes))
            return try plan.quantize(values, weight: folder.weight(ofClientAt: index), using: &rng).elements
        } catch let error as QuantizationError {
            throw .file(path: folder.files[index].path, reason: error.description)
        } catch {
            throw .configuration("\(error)")
        }
    }

    func input(for client: UInt32) throws(SimulationError) -> [[UInt64]] {
        [try quantized(client)]
    }

    func accumulate(_ client: UInt32, into total: inout [[UInt64]]) throws(SimulationError) {
        let elements = try quantized(client)
        let modulus = plan.modulus
        guard total.count == 1, total[0].count == elements.count else {
            throw .configuration("internal: reference sum has the wrong shape")
        }
        total[0].withUnsafeMutableBufferPointer { sum in
            for i in 0..<elements.count { sum[i] = modulus.add(sum[i], elements[i]) }
        }
    }
}

/// The kind of file `--output` writes, from its extension.
public enum OutputFormat: String, Sendable, Hashable {
    /// `.npy`: exactly one tensor.
    case npy
    /// `.safetensors`: any number of named tensors.
    case safeTensors = "safetensors"

    /// The format of `url`, or an error for any other extension.
    public init(url: URL) throws(SimulationError) {
        switch url.pathExtension.lowercased() {
        case "npy": self = .npy
        case "safetensors": self = .safeTensors
        default:
            throw .invalidArgument("--output must end in .npy or .safetensors, got '\(url.lastPathComponent)'")
        }
    }
}

extension Simulator {
    /// The slack allowed on top of the plan's bound for Float64 rounding in quantizing, decoding and the
    /// reference mean: a few ulps of c per summed client.
    static func floatingSlack(includedClientCount: Int, clip: Double) -> Double {
        8 * Double(includedClientCount + 2) * Double.ulpOfOne * clip
    }

    /// Simulates a session over the update files of `directory` (see ``UpdateFolder``): picks the clip c
    /// (``ClipChoice/automatic`` unless given: the largest |value| of all files, rounded up), plans the
    /// quantization for n = file count, c and the options' ring (stochastic rounding; weighted when
    /// weights.json exists), runs the protocol (no dropouts unless `options.drops` asks for them), verifies
    /// the aggregate against the plaintext sum of the included clients' quantized updates, decodes their
    /// (weighted) mean, measures it against the Float64 mean of their original values and checks it against
    /// the plan's worst case (a larger error than the bound, measured against the clipped values, fails
    /// verification; clipped values add a warning with the error they cause). Names the files in and out
    /// of the mean. Writes the mean to `options.output` when verified: float64 tensors for F64, I32 and I64
    /// inputs, float32 otherwise.
    static func runFiles(
        _ options: SimulationOptions, directory: URL, seed: UInt64, masterSeed: [UInt8],
        progress: (@Sendable (SimulationProgress) -> Void)?
    ) throws(SimulationError) -> SimulationReport {
        let start = wallSeconds()
        guard options.vectorLength == nil else {
            throw .invalidArgument("--length is for synthetic inputs; with --inputs the update files set the length")
        }
        let clipChoice = options.clip ?? .automatic
        if case let .fixed(value) = clipChoice, !(value.isFinite && value > 0) {
            throw .invalidArgument("--clip must be 'auto' or finite and positive, got \(value)")
        }
        let outputFormat = try options.output.map { (url) throws(SimulationError) in try OutputFormat(url: url) }
        let folder = try UpdateFolder(directory: directory)
        let n = folder.clientCount
        if let requested = options.clientCount, requested != n {
            throw .invalidArgument(
                "--clients \(requested) does not match the \(n) update files in \(directory.path) (omit --clients)")
        }
        guard n >= 2 else {
            throw .invalidArgument("\(directory.path) holds \(n) update file; secure aggregation needs at least 2")
        }
        if outputFormat == .npy, folder.layout.entries.count != 1 {
            throw .invalidArgument(
                "--output .npy holds one array but the updates have \(folder.layout.entries.count) tensors: "
                    + "write .safetensors instead")
        }
        let clip: Double
        switch clipChoice {
        case .automatic: clip = ClipChoice.automaticClip(largestMagnitude: folder.largestMagnitude)
        case let .fixed(value): clip = value
        }
        let plan: QuantizationPlan
        do {
            plan = try QuantizationPlan.plan(
                clientCount: n, clipRange: clip, modulus: options.modulus,
                maximumWeight: folder.weights == nil ? nil : folder.maximumWeight, rounding: .stochastic)
        } catch {
            throw .infeasiblePlan(error.description)
        }
        let source = FileInputs(folder: folder, plan: plan, seed: masterSeed)
        var (report, result, stoppedAt) = try run(
            options, clientCount: n, source: source, seed: seed, masterSeed: masterSeed, progress: progress)
        report.scale = plan.scale
        report.clip = clip
        report.clipRule = clipChoice == .automatic ? "auto" : "fixed"
        report.largestMagnitude = folder.largestMagnitude
        if let result {
            let included = Set(result.includedClients.map { Int($0.rawValue) })
            let names = folder.files.map(\.lastPathComponent)
            report.includedFiles = names.indices.filter { included.contains($0 + 1) }.map { names[$0] }
            report.excludedFiles = names.indices.filter { !included.contains($0 + 1) }.map {
                ExcludedFile(file: names[$0], round: stoppedAt[$0 + 1]?.description)
            }
        }
        if let result, report.verified {
            try check(&report, result: result, folder: folder, plan: plan, clip: clip, output: options.output)
        }
        // The whole run: reading, checking and writing the files included.
        report.totalSeconds = wallSeconds() - start
        return report
    }

    /// Decodes the mean, measures its error, and writes it; marks the report unverified on failure.
    static func check(
        _ report: inout SimulationReport, result: AggregationResult, folder: UpdateFolder, plan: QuantizationPlan,
        clip: Double, output: URL?
    ) throws(SimulationError) {
        guard let aggregate = result.vectors.first else { return }

        // The decoded mean against the Float64 mean of exactly the included clients' inputs.
        let included = result.includedClients
        let decoded: [Double]
        do {
            decoded = try plan.decodeMean(aggregate, includedClientCount: included.count)
        } catch {
            report.verified = false
            report.verificationFailure = "decoding failed: \(error.description)"
            return
        }
        let count = folder.layout.elementCount
        var sum = [Double](repeating: 0, count: count)
        var clippedSum = [Double](repeating: 0, count: count)
        var totalWeight = 0
        var clippedValues = 0
        for client in included {
            let index = client.position
            let values = try folder.values(ofClientAt: index)
            let weight = folder.weight(ofClientAt: index)
            totalWeight += weight
            let w = Double(weight)
            for i in 0..<count {
                let x = values[i]
                let clipped = min(max(x, -clip), clip)
                if clipped != x { clippedValues += 1 }
                sum[i] += w * x
                clippedSum[i] += w * clipped
            }
        }
        guard totalWeight > 0, decoded.count == count else {
            report.verified = false
            report.verificationFailure = "the included clients have total weight 0: the mean is undefined"
            return
        }
        let divisor = Double(totalWeight)
        var maxError = 0.0
        var maxClippedError = 0.0
        var squaredError = 0.0
        var squaredMean = 0.0
        for i in 0..<count {
            let mean = sum[i] / divisor
            maxError = max(maxError, abs(decoded[i] - mean))
            maxClippedError = max(maxClippedError, abs(decoded[i] - clippedSum[i] / divisor))
            squaredError += (decoded[i] - mean) * (decoded[i] - mean)
            squaredMean += mean * mean
        }
        let bound = plan.worstCaseMeanError(includedClientCount: included.count, totalWeight: totalWeight)
        let relativeL2Error = squaredMean > 0 ? (squaredError / squaredMean).squareRoot() : nil
        let valueCount = included.count * count
        report.maxAbsError = maxError
        report.errorBound = bound
        report.clippedValues = clippedValues
        report.clippedFraction = valueCount > 0 ? Double(clippedValues) / Double(valueCount) : 0
        report.relativeL2Error = relativeL2Error
        if clippedValues > 0 {
            let relative = relativeL2Error.map { "relative L2 error \(percent($0))" } ?? "relative L2 error n/a"
            let suggestion = ClipChoice.automaticClip(largestMagnitude: folder.largestMagnitude)
            report.warnings.append(
                "\(clippedValues) of the \(valueCount) values in the mean (\(percent(Double(clippedValues) / Double(valueCount)))) "
                    + "lay outside ±\(clip) and were clipped: the mean is off the unclipped Float64 mean by up to "
                    + "\(maxError) (\(relative)); rerun with --clip auto (c = \(suggestion) for these files)")
        }
        guard maxClippedError <= bound + floatingSlack(includedClientCount: included.count, clip: clip) else {
            report.verified = false
            report.verificationFailure =
                "decoded mean is off by \(maxClippedError), more than the planned worst case \(bound)"
            return
        }

        if let output {
            let tensors: [NamedTensor]
            do {
                tensors = try plan.decodeMean(aggregate, layout: folder.layout, includedClientCount: included.count)
                    .map { tensor in
                        var tensor = tensor
                        tensor.dtype = [.float64, .int32, .int64].contains(tensor.dtype) ? .float64 : .float32
                        return tensor
                    }
                switch try OutputFormat(url: output) {
                case .npy:
                    guard tensors.count == 1, let tensor = tensors.first else {
                        throw SimulationError.invalidArgument("--output .npy holds exactly one tensor")
                    }
                    try NpyFile.write(tensor, to: output)
                case .safeTensors:
                    try SafeTensorsFile.write(tensors, to: output)
                }
            } catch let error as SimulationError {
                throw error
            } catch let error as QuantizationError {
                throw .file(path: output.path, reason: "cannot write the mean: \(error.description)")
            } catch {
                throw .file(path: output.path, reason: "cannot write the mean: \(error)")
            }
            report.output = output.path
        }
    }
}
