public import Foundation
public import SecAggCrypto
public import SecureAggregation

/// "FRACTION@ROUND": that fraction of all n clients stops answering at that round.
public struct DropSpecification: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Fraction of the n clients, 0...1.
    public var fraction: Double
    /// The round whose request they do not answer.
    public var round: ProtocolRound

    /// Creates a drop specification.
    public init(fraction: Double, round: ProtocolRound) {
        self.fraction = fraction
        self.round = round
    }

    /// Parses "0.3@share-keys" (rounds: advertise-keys, share-keys, masked-input, consistency-check,
    /// unmasking).
    public init(parsing text: String) throws(SimulationError) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let fraction = Double(parts[0]), fraction >= 0, fraction <= 1 else {
            throw .invalidArgument("--drop expects FRACTION@ROUND with 0 ≤ FRACTION ≤ 1, got '\(text)'")
        }
        guard let round = ProtocolRound.allCases.first(where: { $0.description == String(parts[1]) }) else {
            let names = ProtocolRound.allCases.map(\.description).joined(separator: ", ")
            throw .invalidArgument("--drop: unknown round '\(parts[1])' (one of \(names))")
        }
        self.init(fraction: fraction, round: round)
    }

    /// "0.3@share-keys".
    public var description: String { "\(fraction)@\(round)" }
}

/// Which communication graph to simulate.
public enum GraphChoice: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every client is every other client's neighbour.
    case complete
    /// SecAgg+ random Harary graph, degree and threshold from the parameter finder.
    case harary
}

/// How file inputs are clipped before quantization: every coordinate to [−c, c].
public enum ClipChoice: Sendable, Hashable, CustomStringConvertible {
    /// c from the data: the largest |value| over every update file, rounded up to two significant digits
    /// (``automaticClip(largestMagnitude:)``), so that nothing is clipped.
    case automatic
    /// A given c (finite and positive).
    case fixed(Double)

    /// Parses "auto" or a positive number.
    public init(parsing text: String) throws(SimulationError) {
        if text == "auto" {
            self = .automatic
            return
        }
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw .invalidArgument("--clip must be 'auto' or a finite positive number, got '\(text)'")
        }
        self = .fixed(value)
    }

    /// "auto" or the number.
    public var description: String {
        switch self {
        case .automatic: "auto"
        case let .fixed(value): "\(value)"
        }
    }

    /// The clip of `--clip auto` for data whose largest |value| is `largestMagnitude`: that value rounded up
    /// to two significant decimal digits (3.14159 → 3.2, 0.0123 → 0.013, 1 → 1, 100 → 100), never below it,
    /// so no value is clipped and the scale gives up at most ~10% (1/10 of the leading digit) of its range
    /// (rounding up to a power of two could give up half). All-zero data (or anything not finite and
    /// positive) gives 1.
    public static func automaticClip(largestMagnitude m: Double) -> Double {
        guard m.isFinite, m > 0 else { return 1 }
        let exponent = log10(m).rounded(.down)
        var clip: Double
        if exponent >= 1 {
            // An integer unit 10^(e − 1): exact multiples.
            let unit = pow(10, exponent - 1)
            clip = (m / unit).rounded(.up) * unit
            if clip < m { clip = ((m / unit).rounded(.up) + 1) * unit }
        } else {
            // Divide by an integer power of ten, so that 3 gives 3.0 and not 3.0000000000000004.
            let scale = pow(10, 1 - exponent)
            clip = (m * scale).rounded(.up) / scale
            if clip < m { clip = ((m * scale).rounded(.up) + 1) / scale }
        }
        // Overflow or underflow at the ends of the Double range: fall back to m itself.
        if !clip.isFinite || clip < m { clip = m }
        return clip
    }
}

/// Everything `secagg simulate` can be asked to do.
public struct SimulationOptions: Sendable {
    /// The default cohort of the synthetic demo.
    public static let defaultClientCount = 100
    /// The default synthetic vector length.
    public static let defaultVectorLength = 100_000
    /// The default γ and δ handed to the parameter finder when only one of them is given.
    public static let defaultFraction = 0.05
    /// The default clip range of `secagg plan` (it has no data to look at; `simulate --inputs` defaults to
    /// ``ClipChoice/automatic``).
    public static let defaultClip = 1.0
    /// The dropout schedule of synthetic runs when none is given: 10% of the clients drop after share-keys.
    /// Runs over update files (`inputsDirectory`) default to no dropouts.
    public static let defaultSyntheticDrops = [DropSpecification(fraction: 0.1, round: .shareKeys)]

    /// n; nil means 100 for synthetic inputs and the number of update files with `inputsDirectory` (when
    /// set together with a directory, it must equal the file count).
    public var clientCount: Int?
    /// Synthetic vector length m; nil means 100,000. Must stay nil with `inputsDirectory`.
    public var vectorLength: Int?
    /// The ring of synthetic inputs, and the ring file inputs are quantized into.
    public var modulus: RingModulus = .powerOfTwo(bitWidth: 32)
    /// t; nil picks it from the graph choice (see ``GraphPlan/choose(clientCount:graph:model:corruptFraction:dropoutBound:threshold:)``).
    public var threshold: Int?
    /// Semi-honest or active.
    public var model: SecurityModel = .semiHonest
    /// Complete or Harary.
    public var graph: GraphChoice = .complete
    /// γ for the parameter finder; nil means 0.05 (and, on the complete graph with δ also nil, the fixed
    /// threshold ⌈2(n − 1)/3⌉ instead of the finder's conditions).
    public var corruptFraction: Double?
    /// δ for the parameter finder; nil as for `corruptFraction` (see ``effectiveDropoutBound``).
    public var dropoutBound: Double?
    /// Dropout schedule; nil means ``defaultSyntheticDrops`` for synthetic inputs and none with
    /// `inputsDirectory` (see ``effectiveDrops``).
    public var drops: [DropSpecification]?
    /// A folder with one update file per client (`.npy` or `.safetensors`) and an optional weights.json.
    public var inputsDirectory: URL?
    /// Clip range c for file inputs; nil means ``ClipChoice/automatic``. Must stay nil without
    /// `inputsDirectory`.
    public var clip: ClipChoice?
    /// Where to write the decoded mean (file inputs only): `.npy` (one tensor) or `.safetensors`.
    public var output: URL?
    /// Seed for everything random; nil draws one from the CSPRNG (and reports it).
    public var seed: UInt64?
    /// Distributed differential privacy (synthetic real-valued updates, privatized by every client).
    public var dp: DPOptions?
    /// Threads used to run clients concurrently and by the server's unmasking.
    public var concurrency = SystemInfo.activeProcessorCount

    /// Defaults: the demo (100 clients × 100,000 values, 10% dropping after share-keys).
    public init() {}

    /// The schedule the run follows: `drops`, or its default (``defaultSyntheticDrops`` for synthetic inputs,
    /// none for update files, so that every file is in the mean unless dropouts are asked for).
    public var effectiveDrops: [DropSpecification] {
        drops ?? (inputsDirectory == nil ? Self.defaultSyntheticDrops : [])
    }

    /// The δ handed to the finder: `dropoutBound` when given; otherwise, when the finder is used at all
    /// (Harary graph, or γ given), the larger of 0.05 and the scheduled drop fraction (capped below 1), so
    /// that `--graph harary --drop 0.3@share-keys` plans for the dropouts it simulates; nil otherwise.
    public var effectiveDropoutBound: Double? {
        if let dropoutBound { return dropoutBound }
        guard graph == .harary || corruptFraction != nil else { return nil }
        let scheduled = effectiveDrops.reduce(0) { $0 + $1.fraction }
        return min(max(Self.defaultFraction, scheduled), 0.99)
    }
}

/// Errors of the simulator: one clear line each.
public enum SimulationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A bad option value.
    case invalidArgument(String)
    /// A file could not be read, parsed or written.
    case file(path: String, reason: String)
    /// The protocol engine refused the configuration.
    case configuration(String)
    /// No graph, threshold or quantization plan meets the request.
    case infeasiblePlan(String)

    /// One line.
    public var description: String {
        switch self {
        case let .invalidArgument(message): message
        case let .file(path, reason): "\(path): \(reason)"
        case let .configuration(message): message
        case let .infeasiblePlan(message): "infeasible plan: \(message)"
        }
    }
}
