public import Foundation
public import SecAggCrypto
import SecAggQuantization

/// Reading a client's update and writing the server's aggregate (`.npy` or `.safetensors`, SPEC.md §9).
public enum ModelFiles {
    /// The update's values in file order: the one array of a `.npy` file, or every tensor of a `.safetensors` file
    /// in the file's order, flattened (row-major).
    public static func readUpdate(_ url: URL) throws(NodeError) -> [Double] {
        do {
            switch url.pathExtension.lowercased() {
            case "npy":
                return try NpyFile.read(contentsOf: url).values
            case "safetensors":
                return try SafeTensorsFile.read(contentsOf: url).tensors.flatMap(\.values)
            default:
                throw NodeError.file(path: url.path, reason: "an update must be a .npy or .safetensors file")
            }
        } catch let error as NodeError {
            throw error
        } catch {
            throw .file(path: url.path, reason: "\(error)")
        }
    }

    /// Writes `values` as one float64 vector: a `.npy` array, or a `.safetensors` tensor named `name`.
    public static func writeVector(_ values: [Double], name: String, to url: URL) throws(NodeError) {
        do {
            let tensor = try NamedTensor(name: name, shape: [values.count], dtype: .float64, values: values)
            switch url.pathExtension.lowercased() {
            case "npy": try NpyFile.write(tensor, to: url)
            case "safetensors": try SafeTensorsFile.write([tensor], to: url)
            default: throw NodeError.file(path: url.path, reason: "the output must be a .npy or .safetensors file")
            }
        } catch let error as NodeError {
            throw error
        } catch {
            throw .file(path: url.path, reason: "cannot write: \(error)")
        }
    }

    /// Reads lower-case or upper-case hex, one value per non-empty line (`#` starts a comment).
    public static func readHexLines(_ url: URL) throws(NodeError) -> [[UInt8]] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw .file(path: url.path, reason: "\(error)")
        }
        var lines: [[UInt8]] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let bytes = hexBytes(trimmed) else {
                throw .file(path: url.path, reason: "line \(number + 1) is not hex")
            }
            lines.append(bytes)
        }
        return lines
    }

    /// Every client's Ed25519 verification key, one 64-hex-digit line each, in index order.
    public static func readVerificationKeys(_ url: URL) throws(NodeError) -> [Ed25519.PublicKey] {
        var keys: [Ed25519.PublicKey] = []
        for (position, bytes) in try readHexLines(url).enumerated() {
            do {
                keys.append(try Ed25519.PublicKey(rawRepresentation: bytes))
            } catch {
                throw .file(path: url.path, reason: "key \(position + 1): \(error)")
            }
        }
        return keys
    }

    /// A client's Ed25519 signing key: one line of 64 hex digits (the 32-byte seed).
    public static func readSigningKey(_ url: URL) throws(NodeError) -> Ed25519.PrivateKey {
        let lines = try readHexLines(url)
        guard lines.count == 1, let seed = lines.first, seed.count == Ed25519.seedByteCount else {
            throw .file(path: url.path, reason: "expected one line of \(2 * Ed25519.seedByteCount) hex digits")
        }
        do {
            return try Ed25519.PrivateKey(seed: SecretBytes(copying: seed))
        } catch {
            throw .file(path: url.path, reason: "\(error)")
        }
    }

    /// Lower-case hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexBytes(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func digit(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = digit(utf8[i]), let low = digit(utf8[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        return bytes
    }
}

/// Synthetic inputs of the benchmark: client u's vector is SplitMix64 of (seed, u), reduced into the ring
/// (package access: the benchmark's server recomputes them to verify the aggregate).
package enum SyntheticInput {
    package static func vector(client: UInt32, seed: UInt64, length: Int, modulus: RingModulus) -> [UInt64] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(client)
        var out = [UInt64](repeating: 0, count: length)
        let mask = modulus.elementMask
        let q = modulus.modulusValue
        for i in 0..<length {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            out[i] = modulus.isPowerOfTwo ? z & mask : z % (q ?? UInt64.max)
        }
        return out
    }
}
