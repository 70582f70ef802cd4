import Foundation
import SecAggQuantization

/// Update files whose quantization is exact, so that the decoded sum equals the plaintext sum bit for bit.
///
/// Over Z_q with q = 2 · n · 2^20 + 1, H = ⌊(q − 1)/2⌋ = n · 2^20, so with clip 1 the plan's scale is exactly
/// ⌊H / n⌋ = 2^20 (SPEC.md §7.3). Values j / 1024 (|j| ≤ 1024) then scale to the integers j · 1024: stochastic
/// rounding leaves them unchanged, the aggregate decodes to Σ j_i / 1024 exactly, and so does the Float64 sum of
/// at most a few thousand such values.
enum GridInputs {
    static func modulus(clientCount n: Int) -> UInt64 { UInt64(2 * n) << 20 + 1 }

    /// Client `index`'s values: j / 1024 for pseudo-random j in −1024...1024.
    static func values(index: Int, count: Int) -> [Double] {
        var state = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 &+ 12_345
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let j = Int((state >> 33) % 2049) - 1024
            return Double(j) / 1024
        }
    }

    /// Writes client `index`'s update as float32 `.npy` and returns its path.
    static func write(index: Int, count: Int, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent("client-\(index).npy")
        let tensor = try NamedTensor(
            name: "update", shape: [count], dtype: .float32, values: values(index: index, count: count))
        try NpyFile.write(tensor, to: url)
        return url.path
    }

    /// The plaintext sum of the given clients' values.
    static func sum(of clients: [Int], count: Int) -> [Double] {
        var total = [Double](repeating: 0, count: count)
        for client in clients {
            for (i, value) in values(index: client, count: count).enumerated() { total[i] += value }
        }
        return total
    }
}

/// The `--json` summary of `secagg-node serve`.
struct ServeSummaryJSON: Decodable {
    struct Round: Decodable {
        var round: String
        var answered: Int
        var dropped: [UInt32]
        var closed_early: Bool
        var seconds: Double
    }

    var completed: Bool
    var included: [UInt32]
    var excluded: [UInt32]
    var session_s: Double
    var rounds: [Round]
    var output: String?

    init(_ text: String) throws {
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw HarnessError("no JSON summary in:\n\(text)")
        }
        self = try JSONDecoder().decode(Self.self, from: Data(line.utf8))
    }
}
