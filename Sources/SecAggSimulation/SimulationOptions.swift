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

/// Everything `secagg simulate` can be asked to do.
public struct SimulationOptions: Sendable {
    /// n.
    public var clientCount = 100
    /// Synthetic vector length m (ignored with `inputsDirectory`).
    public var vectorLength = 100_000
    /// The ring of synthetic inputs (and of quantized file inputs).
    public var modulus: RingModulus = .powerOfTwo(bitWidth: 32)
    /// t; nil picks it from the graph choice (finder) or ⌈2(n − 1)/3⌉ on the complete graph.
    public var threshold: Int?
    /// Semi-honest or active.
    public var model: SecurityModel = .semiHonest
    /// Complete or Harary.
    public var graph: GraphChoice = .complete
    /// γ for the parameter finder.
    public var corruptFraction = 0.05
    /// δ for the parameter finder.
    public var dropoutBound = 0.05
    /// Dropout schedule.
    public var drops: [DropSpecification] = [DropSpecification(fraction: 0.1, round: .shareKeys)]
    /// A folder with one update file per client (`.npy` or `.safetensors`) and an optional weights.json.
    public var inputsDirectory: URL?
    /// Clip range c for file inputs.
    public var clip = 1.0
    /// Where to write the decoded mean (file inputs).
    public var output: URL?
    /// Seed for everything random; nil draws one from the CSPRNG (and reports it).
    public var seed: UInt64?
    /// Threads used to run clients concurrently and by the server's unmasking.
    public var concurrency = SystemInfo.activeProcessorCount

    /// Defaults: the demo (100 clients × 100,000 values, 10% dropping after share-keys).
    public init() {}
}

/// Errors of the simulator: one clear line each.
public enum SimulationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A bad option value.
    case invalidArgument(String)
    /// A file could not be read, parsed or written.
    case file(path: String, reason: String)
    /// The protocol engine refused the configuration.
    case configuration(String)

    /// One line.
    public var description: String {
        switch self {
        case let .invalidArgument(message): message
        case let .file(path, reason): "\(path): \(reason)"
        case let .configuration(message): message
        }
    }
}
