public import SecAggCrypto

/// Errors of the quantization module: rings, planning, quantizing, decoding, tensor layouts and
/// model-update files. Payloads carry sizes, indices and names, never vector contents.
public enum QuantizationError: Error, Hashable, Sendable {
    // MARK: Rings

    /// An element is not a canonical ring element (≥ R).
    case elementOutOfRange(index: Int, modulus: RingModulus)
    /// The modulus is outside the supported range.
    case invalidModulus(description: String)

    // MARK: Planning

    /// A plan parameter is out of range (non-positive client count, non-finite clip, …).
    case invalidPlanParameter(name: String, reason: String)
    /// The sum of `clientCount` worst-case inputs cannot fit the centered range of the ring at any
    /// positive scale. `minimumBitWidth` (nil when even 64 bits are too few) and `maximumClientCount`
    /// say what would work.
    case wrapUnavoidable(
        clientCount: Int, maximumWeight: Int, modulus: RingModulus, minimumBitWidth: Int?,
        maximumClientCount: Int)
    /// No ring up to 2^64 reaches the requested worst-case error of the mean. The other values say what
    /// would work: the best error at 64 bits, and the largest clip range or client count that reach the target.
    case precisionUnattainable(
        targetError: Double, achievableError: Double, maximumClipRange: Double,
        maximumClientCount: Int)

    // MARK: Quantizing and decoding

    /// An input coordinate is NaN or infinite.
    case nonFiniteValue(index: Int)
    /// A client weight is outside 0...maximumWeight (1 for an unweighted plan).
    case weightOutOfRange(weight: Int, maximum: Int)
    /// An aggregate has the wrong length for the plan or layout.
    case vectorLengthMismatch(actual: Int, expected: Int)
    /// The included client count is outside 1...plan.clientCount.
    case includedClientCountOutOfRange(count: Int, maximum: Int)
    /// A decoded aggregate coordinate lies outside what `count` honest clients can produce: the
    /// aggregate is corrupted or was summed over more clients than claimed.
    case aggregateOutOfRange(index: Int)
    /// A weighted mean was requested but the total weight is zero.
    case zeroTotalWeight

    // MARK: Tensor layouts

    /// The layout itself is invalid (duplicate or empty name, negative dimension, overflow).
    case invalidLayout(reason: String)
    /// A tensor named in the layout is absent from the update.
    case missingTensor(name: String)
    /// The update holds a tensor the layout does not name (or names it twice).
    case unexpectedTensor(name: String)
    /// A tensor's shape differs from the layout's.
    case tensorShapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A tensor's dtype differs from the layout's.
    case tensorDTypeMismatch(name: String, expected: TensorDType, actual: TensorDType)
    /// A tensor's value count does not equal the product of its shape.
    case tensorValueCountMismatch(name: String, expected: Int, actual: Int)

    // MARK: Files

    /// The file ends before the structure it announces.
    case truncatedFile(format: String, byteCount: Int, requiredByteCount: Int)
    /// The header is not what the format requires.
    case malformedHeader(format: String, reason: String)
    /// The header is larger than the format's limit.
    case headerTooLarge(format: String, byteCount: Int, maximum: Int)
    /// A format version this reader does not support.
    case unsupportedVersion(format: String, version: String)
    /// A dtype this reader or writer does not support.
    case unsupportedDType(format: String, dtype: String)
    /// The data size does not equal shape × item size.
    case dataByteCountMismatch(name: String, expected: Int, actual: Int)
    /// Data offsets that overlap, leave holes, run backwards or out of the data section.
    case invalidDataOffsets(name: String, reason: String)
    /// Reading or writing a file failed.
    case fileAccessFailed(path: String, reason: String)
}

extension QuantizationError: CustomStringConvertible {
    /// One line, no vector contents.
    public var description: String {
        switch self {
        case let .elementOutOfRange(index, modulus):
            "element \(index) is not below the modulus \(modulus)"
        case let .invalidModulus(description):
            "invalid modulus: \(description)"
        case let .invalidPlanParameter(name, reason):
            "invalid plan parameter \(name): \(reason)"
        case let .wrapUnavoidable(n, w, modulus, minimumBitWidth, maximumClientCount):
            "\(n) clients with maximum weight \(w) can wrap modulo \(modulus); would work: "
                + (minimumBitWidth.map { "at least \($0) bits, or " } ?? "")
                + "at most \(maximumClientCount) clients"
        case let .precisionUnattainable(target, achievable, maximumClip, maximumClients):
            "worst-case error \(target) is unattainable (best at 64 bits: \(achievable)); would work: "
                + "clip range ≤ \(maximumClip) or at most \(maximumClients) clients"
        case let .nonFiniteValue(index):
            "coordinate \(index) is NaN or infinite"
        case let .weightOutOfRange(weight, maximum):
            "weight \(weight) is not allowed: weights lie in 0...\(maximum) (exactly 1 for an unweighted plan)"
        case let .vectorLengthMismatch(actual, expected):
            "vector has \(actual) elements, expected \(expected)"
        case let .includedClientCountOutOfRange(count, maximum):
            "included client count \(count) is outside 1...\(maximum)"
        case let .aggregateOutOfRange(index):
            "aggregate coordinate \(index) exceeds what the included clients can produce"
        case .zeroTotalWeight:
            "total weight is zero: the weighted mean is undefined"
        case let .invalidLayout(reason):
            "invalid tensor layout: \(reason)"
        case let .missingTensor(name):
            "tensor \"\(name)\" from the layout is missing"
        case let .unexpectedTensor(name):
            "tensor \"\(name)\" is not in the layout (or appears twice)"
        case let .tensorShapeMismatch(name, expected, actual):
            "tensor \"\(name)\" has shape \(actual), expected \(expected)"
        case let .tensorDTypeMismatch(name, expected, actual):
            "tensor \"\(name)\" has dtype \(actual.rawValue), expected \(expected.rawValue)"
        case let .tensorValueCountMismatch(name, expected, actual):
            "tensor \"\(name)\" has \(actual) values, its shape needs \(expected)"
        case let .truncatedFile(format, byteCount, required):
            "\(format) file of \(byteCount) bytes is truncated (needs \(required))"
        case let .malformedHeader(format, reason):
            "malformed \(format) header: \(reason)"
        case let .headerTooLarge(format, byteCount, maximum):
            "\(format) header of \(byteCount) bytes exceeds the limit \(maximum)"
        case let .unsupportedVersion(format, version):
            "unsupported \(format) version \(version)"
        case let .unsupportedDType(format, dtype):
            "unsupported \(format) dtype \(dtype)"
        case let .dataByteCountMismatch(name, expected, actual):
            "\"\(name)\": data has \(actual) bytes, shape and dtype need \(expected)"
        case let .invalidDataOffsets(name, reason):
            "\"\(name)\": invalid data offsets: \(reason)"
        case let .fileAccessFailed(path, reason):
            "cannot access \(path): \(reason)"
        }
    }
}
