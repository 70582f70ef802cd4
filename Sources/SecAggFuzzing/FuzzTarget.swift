/// One fuzz target: a property check over arbitrary input bytes.
///
/// `run` must return normally on every input the code under test merely rejects (a typed error is a
/// correct answer to malformed input) and calls ``violation(_:_:)`` — a `fatalError` with a message that
/// names the target and the property — when a promise of SPEC.md is broken.
public struct FuzzTarget: Sendable {
    /// The name used by `SECAGG_FUZZ_TARGET`, `.ci/fuzz` and the corpus directory `Tests/FuzzCorpus/<name>/`.
    public let name: String
    /// One line: what the target checks.
    public let summary: String
    /// Whether the target can run on this machine. A differential target never runs without the
    /// implementation it compares (it would only compare libsodium with itself).
    public let requirement: @Sendable () -> Requirement
    /// The property check.
    public let run: @Sendable ([UInt8]) -> Void
    /// Seed inputs the target builds itself (`SecAggFuzzer --write-seeds <target> <dir>`), for targets whose
    /// inputs come from live sessions rather than from files in Vectors/ (those are written by seed.py).
    public let seeds: @Sendable () -> [[UInt8]]

    /// Creates a target.
    public init(
        name: String, summary: String, requirement: @escaping @Sendable () -> Requirement = { .met },
        seeds: @escaping @Sendable () -> [[UInt8]] = { [] }, run: @escaping @Sendable ([UInt8]) -> Void
    ) {
        self.name = name
        self.summary = summary
        self.requirement = requirement
        self.seeds = seeds
        self.run = run
    }
}

/// Whether a target can run here.
public enum Requirement: Sendable, Equatable {
    /// It can.
    case met
    /// This machine cannot run what the target tests (a CPU without the SIMD extension): nothing to test.
    case unsupportedMachine(String)
    /// The machine can, but the implementation disabled itself (a failed start-up self-test): a bug.
    case failedSelfTest(String)

    /// Why the target cannot run, or nil.
    public var reason: String? {
        switch self {
        case .met: nil
        case let .unsupportedMachine(reason), let .failedSelfTest(reason): reason
        }
    }
}

/// Every fuzz target, by name. To add one, write a `static let` `FuzzTarget` (see `ConfigurationTarget.swift`
/// for the smallest example), list it in ``all`` and commit a seed corpus under `Tests/FuzzCorpus/<name>/`.
public enum FuzzRegistry {
    /// All targets, in the order `.ci/fuzz` runs them.
    public static let all: [FuzzTarget] = [
        ConfigurationTarget.target,
        ModelFileTargets.npy,
        ModelFileTargets.safetensors,
        BitPackingTarget.target,
        X25519Target.target,
        ChaChaAddTarget.target,
        WireTarget.target,
    ]

    /// The target called `name`, if any.
    public static func target(named name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }

    /// The registered names.
    public static var names: [String] { all.map(\.name) }
}

/// Reports a broken property and stops: the fuzzer records the input as a crash.
public func violation(_ target: String, _ message: String) -> Never {
    fatalError("fuzz target \(target): property violated: \(message)")
}
