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
    /// How masks were expanded (``MaskPrg/maskBackend``, e.g. "avx512+openssl").
    public var maskBackend: String?
    /// How X25519 agreements were computed (``X25519/batchBackend``, "avx512ifma" or "libsodium").
    public var x25519Backend: String?

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
    }

    /// A short human summary.
    public var summary: String {
        var lines: [String] = []
        let status =
            verified
            ? "VERIFIED"
            : (abortReason.map { "ABORTED: \($0)" } ?? "NOT VERIFIED" + (verificationFailure.map { ": \($0)" } ?? ""))
        lines.append("secure aggregation: \(status)")
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
            if let clippedValues, clippedValues > 0 {
                lines.append("  \(clippedValues) input values were clipped to ±c: the bound holds for the clipped mean")
            }
        }
        if let output { lines.append("  wrote the decoded mean to \(output)") }
        lines.append("  total \(format(totalSeconds, 2)) s")
        return lines.joined(separator: "\n")
    }
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
