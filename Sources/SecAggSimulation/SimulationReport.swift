import Foundation
public import SecAggGraph
import SecureAggregation

/// Compute time of one round.
public struct RoundTiming: Sendable, Codable, Hashable {
    /// CPU seconds of every client's work in this round, summed.
    public var clientSecondsTotal: Double = 0
    /// `clientSecondsTotal` divided by the clients that worked in this round.
    public var clientSecondsPerClient: Double = 0
    /// Wall-clock seconds of the server's work (receiving this round's messages and closing the round).
    public var serverSeconds: Double = 0

    enum CodingKeys: String, CodingKey {
        case clientSecondsTotal = "client_seconds_total"
        case clientSecondsPerClient = "client_seconds_per_client"
        case serverSeconds = "server_seconds"
    }
}

/// Bytes moved in one round.
public struct RoundBytes: Sendable, Codable, Hashable {
    /// All client → server bytes of this round.
    public var clientToServer = 0
    /// All server → client bytes that started this round (a broadcast counts once per recipient).
    public var serverToClient = 0
    /// Mean client → server bytes per sending client.
    public var clientToServerPerClient = 0.0
    /// Mean server → client bytes per receiving client.
    public var serverToClientPerClient = 0.0

    enum CodingKeys: String, CodingKey {
        case clientToServer = "client_to_server"
        case serverToClient = "server_to_client"
        case clientToServerPerClient = "client_to_server_per_client"
        case serverToClientPerClient = "server_to_client_per_client"
    }
}

/// An update file whose values are not in the decoded mean, and why.
public struct ExcludedFile: Sendable, Codable, Hashable {
    /// The file name (no directory).
    public var file: String
    /// The round in which its client stopped answering (scheduled dropout, or a message the engine or the
    /// server refused); nil when the server left it out for another reason.
    public var round: String?

    /// Creates an entry.
    public init(file: String, round: String?) {
        self.file = file
        self.round = round
    }
}

/// What `secagg simulate` prints (`--json`: exactly these keys).
public struct SimulationReport: Sendable, Codable {
    /// True when the aggregate equals the plaintext sum of exactly the included clients.
    public var verified: Bool
    /// n.
    public var clients: Int
    /// Clients whose inputs are in the aggregate.
    public var included: Int
    /// Clients that stopped answering, per round name.
    public var dropped: [String: Int]
    /// t.
    public var threshold: Int
    /// Neighbours per client (n − 1 on the complete graph).
    public var graph: Int
    /// "complete" or "harary".
    public var graphKind: String
    /// "semi-honest" or "active".
    public var model: String
    /// Elements per client (all vectors).
    public var length: Int
    /// The ring, e.g. "2^32".
    public var modulus: String
    /// Per round name.
    public var timings: [String: RoundTiming]
    /// Per round name.
    public var bytes: [String: RoundBytes]
    /// Total bytes a client sends / bytes of its unmasked input at the input's own bit width (mean over
    /// clients that completed).
    public var expansion: Double
    /// Largest |decoded mean − Float64 mean| over all coordinates (file inputs only).
    public var maxAbsError: Double?
    /// Wall-clock seconds of the whole run.
    public var totalSeconds: Double
    /// The seed that reproduces the run.
    public var seed: UInt64
    /// Why the run did not complete, when it aborted.
    public var abortReason: String?
    /// The largest |decoded mean − mean of the clipped inputs| allowed by the quantization plan for this
    /// run's included clients and total weight (file inputs only).
    public var errorBound: Double?
    /// Coordinates of the included clients' inputs that lay outside [−c, c] and were clipped (file inputs
    /// only); when non-zero, `maxAbsError` may exceed `errorBound`.
    public var clippedValues: Int?
    /// The fixed-point scale s of the quantization plan (file inputs only).
    public var scale: Double?
    /// How the threshold was chosen: "finder", "two-thirds" or "explicit".
    public var thresholdRule: String?
    /// log2 of the privacy failure bound of (k, t) under γ and δ, when a threat model was given (null: 0).
    public var privacyFailureLog2: Log2Probability?
    /// log2 of the correctness failure bound of (k, t) under γ and δ, when a threat model was given.
    public var correctnessFailureLog2: Log2Probability?
    /// Where the decoded mean was written.
    public var output: String?
    /// Why a completed run is not verified (the aggregate or the decoded mean is wrong).
    public var verificationFailure: String?
    /// The clip range c the updates were clipped to, [−c, c] (file inputs only).
    public var clip: Double?
    /// How c was chosen: "auto" (from the data: the largest |value| rounded up to two significant digits)
    /// or "fixed" (`--clip C`) (file inputs only).
    public var clipRule: String?
    /// The largest |value| over every update file (file inputs only).
    public var largestMagnitude: Double?
    /// `clippedValues` divided by the number of values in the mean (included clients × values per update).
    public var clippedFraction: Double?
    /// ‖decoded mean − Float64 mean‖₂ / ‖Float64 mean‖₂ over all coordinates, against the unclipped values
    /// (file inputs only; nil when the Float64 mean is zero).
    public var relativeL2Error: Double?
    /// The names of the update files whose values are in the decoded mean, in client order (file inputs
    /// only; nil when the session aborted).
    public var includedFiles: [String]?
    /// The update files left out of the mean, in client order, with the round their client stopped at
    /// (file inputs only; nil when the session aborted).
    public var excludedFiles: [ExcludedFile]?
    /// Problems with a verified result that the user must see, e.g. clipped values that move the mean
    /// away from the real one. Printed as "WARNING: …" lines under the status.
    public var warnings: [String] = []
    /// How masks were expanded (``MaskPrg/maskBackend``, e.g. "avx512+openssl").
    public var maskBackend: String?
    /// How X25519 agreements were computed (``X25519/batchBackend``, "avx512ifma" or "libsodium").
    public var x25519Backend: String?
    /// Distributed differential privacy: the plan, and the noise, error and wraps measured (`--dp-epsilon`).
    public var dp: DPReport?

    enum CodingKeys: String, CodingKey {
        case verified, clients, included, dropped, threshold, graph, model, length, modulus, timings, bytes, expansion
        case graphKind = "graph_kind"
        case maxAbsError = "max_abs_error"
        case totalSeconds = "total_seconds"
        case seed
        case abortReason = "abort_reason"
        case errorBound = "error_bound"
        case clippedValues = "clipped_values"
        case scale
        case thresholdRule = "threshold_rule"
        case privacyFailureLog2 = "privacy_failure_log2"
        case correctnessFailureLog2 = "correctness_failure_log2"
        case output
        case verificationFailure = "verification_failure"
        case maskBackend = "mask_backend"
        case x25519Backend = "x25519_backend"
        case clip
        case clipRule = "clip_rule"
        case largestMagnitude = "largest_magnitude"
        case clippedFraction = "clipped_fraction"
        case relativeL2Error = "relative_l2_error"
        case includedFiles = "included_files"
        case excludedFiles = "excluded_files"
        case warnings, dp
    }

    /// The most file names the text summary lists per line (`--json` lists every one).
    static let listedFileCount = 20

    /// A short human summary.
    public var summary: String {
        var lines: [String] = []
        let status =
            verified
            ? "VERIFIED"
            : (abortReason.map { "ABORTED: \($0)" } ?? "NOT VERIFIED" + (verificationFailure.map { ": \($0)" } ?? ""))
        lines.append("secure aggregation: \(status)")
        for warning in warnings { lines.append("WARNING: \(warning)") }
        lines.append(
            "  clients \(clients), included \(included), threshold \(threshold), graph \(graphKind) (k = \(graph)), model \(model)"
        )
        if let privacyFailureLog2, let correctnessFailureLog2 {
            lines.append(
                "  threshold from \(thresholdRule ?? "?"): P[privacy failure] \(bound(privacyFailureLog2)), P[correctness failure] \(bound(correctnessFailureLog2))"
            )
        }
        lines.append("  vector length \(length) over \(modulus), seed \(seed)")
        if let maskBackend, let x25519Backend {
            lines.append("  crypto: masks \(maskBackend), X25519 \(x25519Backend)")
        }
        let order = ProtocolRound.allCases.map(\.description)
        let droppedText = order.compactMap { name in dropped[name].flatMap { $0 > 0 ? "\($0) at \(name)" : nil } }
        lines.append("  dropped: \(droppedText.isEmpty ? "none" : droppedText.joined(separator: ", "))")
        if let includedFiles, let excludedFiles {
            let total = includedFiles.count + excludedFiles.count
            lines.append(
                "  files in the mean: \(includedFiles.count) of \(total)"
                    + (includedFiles.isEmpty ? "" : " (\(Self.list(includedFiles)))"))
            let excluded = excludedFiles.map { "\($0.file) (dropped at \($0.round ?? "?"))" }
            lines.append("  files left out of the mean: \(excluded.isEmpty ? "none" : Self.list(excluded))")
        }
        if let clip, let clipRule {
            let source =
                clipRule == "auto"
                ? "auto: the largest |value| \(largestMagnitude.map { "\($0)" } ?? "?") rounded up to 2 significant digits"
                : "--clip"
            lines.append("  clip ±\(clip) (\(source))")
        }
        lines.append("  round               client s (per client)   server s   up bytes/client   down bytes/client")
        for name in order {
            guard let t = timings[name], let b = bytes[name] else { continue }
            lines.append(
                "  \(name.padding(toLength: 18, withPad: " ", startingAt: 0))  \(format(t.clientSecondsPerClient, 6).leftPad(20))   \(format(t.serverSeconds, 3).leftPad(8))   \(format(b.clientToServerPerClient, 0).leftPad(15))   \(format(b.serverToClientPerClient, 0).leftPad(17))"
            )
        }
        lines.append("  expansion (bytes sent / plain input bytes): \(format(expansion, 3))")
        if let maxAbsError {
            var line = "  max |decoded mean − Float64 mean|: \(maxAbsError)"
            if let errorBound { line += " (planned worst case \(errorBound), scale \(scale ?? 0))" }
            lines.append(line)
            lines.append(
                "  relative L2 error of the mean: \(relativeL2Error.map { "\($0)" } ?? "n/a (the Float64 mean is 0)")")
            if let clippedValues {
                let fraction = clippedFraction.map { " (\(percent($0)))" } ?? ""
                lines.append("  clipped values: \(clippedValues)\(fraction)")
            }
        }
        if let dp { lines += dp.lines }
        if let output { lines.append("  wrote the decoded mean to \(output)") }
        lines.append("  total \(format(totalSeconds, 2)) s")
        return lines.joined(separator: "\n")
    }
}

extension SimulationReport {
    /// "a, b, c" or, past ``listedFileCount`` names, the first ones and "… and N more (--json lists all)".
    static func list(_ names: [String]) -> String {
        guard names.count > listedFileCount else { return names.joined(separator: ", ") }
        let shown = names.prefix(listedFileCount / 2).joined(separator: ", ")
        return "\(shown), … and \(names.count - listedFileCount / 2) more (--json lists all)"
    }
}

/// "12.5%", with more digits for small fractions ("0.0042%").
func percent(_ fraction: Double) -> String {
    let value = fraction * 100
    if value == 0 || value >= 1 { return format(value, 1) + "%" }
    return String(format: "%.2g", value) + "%"
}

/// "≤ 2^-46.8", or "= 0" for probability zero.
func bound(_ probability: Log2Probability) -> String {
    probability.isZero ? "= 0" : "≤ \(probability)"
}

func format(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
