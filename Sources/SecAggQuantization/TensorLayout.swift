public import SecAggCrypto

/// A named tensor of a model update. Values are held as Float64 in C (row-major) order; F16, BF16, F32
/// and I32 convert exactly, I64 beyond 2^53 is rounded to the nearest Float64.
public struct NamedTensor: Hashable, Sendable {
    /// The tensor's name (unique within an update).
    public var name: String
    /// Dimensions, outermost first; `[]` is a scalar.
    public var shape: [Int]
    /// The element type the tensor has in its file.
    public var dtype: TensorDType
    /// Values in C order; `values.count` is the product of `shape`.
    public var values: [Double]

    /// Creates a tensor, checking that the value count matches the shape.
    public init(name: String, shape: [Int], dtype: TensorDType = .float32, values: [Double])
        throws(QuantizationError)
    {
        let count = try TensorLayout.elementCount(of: shape, name: name)
        guard values.count == count else {
            throw .tensorValueCountMismatch(name: name, expected: count, actual: values.count)
        }
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }
}

/// The ordered tensors of a model update and where each lives in the flat aggregation vector. Part of
/// the session configuration; restores names and shapes when the aggregate is decoded (SPEC.md §7.6).
public struct TensorLayout: Hashable, Sendable {
    /// One tensor's place in the vector.
    public struct Entry: Codable, Hashable, Sendable {
        /// The tensor name.
        public var name: String
        /// The tensor shape.
        public var shape: [Int]
        /// The tensor dtype.
        public var dtype: TensorDType
        /// The index of its first value in the flat vector.
        public var offset: Int
        /// Its number of values (product of `shape`).
        public var elementCount: Int
    }

    /// The tensors in vector order; offsets are consecutive from 0.
    public let entries: [Entry]
    /// The total number of model coordinates.
    public let elementCount: Int

    /// The largest supported total coordinate count (2^40), a bound on allocations from configurations.
    public static let maximumElementCount = 1 << 40

    /// A layout for tensors in this order.
    public init(_ tensors: [(name: String, shape: [Int], dtype: TensorDType)]) throws(QuantizationError) {
        var entries: [Entry] = []
        var names = Set<String>()
        var offset = 0
        for tensor in tensors {
            guard !tensor.name.isEmpty else { throw .invalidLayout(reason: "empty tensor name") }
            guard names.insert(tensor.name).inserted else {
                throw .invalidLayout(reason: "duplicate tensor name \"\(tensor.name)\"")
            }
            let count = try Self.elementCount(of: tensor.shape, name: tensor.name)
            entries.append(
                Entry(
                    name: tensor.name, shape: tensor.shape, dtype: tensor.dtype, offset: offset,
                    elementCount: count))
            offset += count
            guard offset <= Self.maximumElementCount else {
                throw .invalidLayout(reason: "more than 2^40 coordinates")
            }
        }
        self.entries = entries
        self.elementCount = offset
    }

    /// The layout of these tensors, in this order.
    public init(describing tensors: [NamedTensor]) throws(QuantizationError) {
        try self.init(tensors.map { ($0.name, $0.shape, $0.dtype) })
    }

    /// The flat vector: every layout tensor's values at its offset. Tensors are matched by name (any
    /// order); a missing, extra or duplicate tensor, or a different shape or dtype, is an error.
    public func flatten(_ tensors: [NamedTensor]) throws(QuantizationError) -> [Double] {
        var byName: [String: NamedTensor] = [:]
        for tensor in tensors {
            guard byName.updateValue(tensor, forKey: tensor.name) == nil else {
                throw .unexpectedTensor(name: tensor.name)
            }
        }
        var flat: [Double] = []
        flat.reserveCapacity(elementCount)
        for entry in entries {
            guard let tensor = byName.removeValue(forKey: entry.name) else { throw .missingTensor(name: entry.name) }
            guard tensor.shape == entry.shape else {
                throw .tensorShapeMismatch(name: entry.name, expected: entry.shape, actual: tensor.shape)
            }
            guard tensor.dtype == entry.dtype else {
                throw .tensorDTypeMismatch(name: entry.name, expected: entry.dtype, actual: tensor.dtype)
            }
            guard tensor.values.count == entry.elementCount else {
                throw .tensorValueCountMismatch(
                    name: entry.name, expected: entry.elementCount,
                    actual: tensor.values.count)
            }
            flat.append(contentsOf: tensor.values)
        }
        if let extra = byName.keys.sorted().first { throw .unexpectedTensor(name: extra) }
        return flat
    }

    /// The named tensors of a flat vector of exactly `elementCount` values.
    public func restore(_ flat: [Double]) throws(QuantizationError) -> [NamedTensor] {
        guard flat.count == elementCount else {
            throw .vectorLengthMismatch(actual: flat.count, expected: elementCount)
        }
        return entries.map { entry in
            // Shapes were validated when the layout was built, so the counts agree.
            NamedTensor(
                unchecked: entry.name, shape: entry.shape, dtype: entry.dtype,
                values: Array(flat[entry.offset..<(entry.offset + entry.elementCount)]))
        }
    }

    /// The product of `shape` with overflow and sign checks.
    static func elementCount(of shape: [Int], name: String) throws(QuantizationError) -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { throw .invalidLayout(reason: "\"\(name)\" has a negative dimension") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= maximumElementCount else {
                throw .invalidLayout(reason: "\"\(name)\" has too many elements")
            }
            count = product
        }
        return count
    }
}

extension NamedTensor {
    init(unchecked name: String, shape: [Int], dtype: TensorDType, values: [Double]) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }
}

extension TensorLayout: Codable {
    private enum CodingKeys: String, CodingKey { case entries }

    /// Decodes and re-validates a layout; stored offsets and counts must match the shapes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let stored = try container.decode([Entry].self, forKey: .entries)
        try self.init(stored.map { ($0.name, $0.shape, $0.dtype) })
        guard stored == entries else {
            throw QuantizationError.invalidLayout(reason: "offsets or element counts do not match the shapes")
        }
    }

    /// Encodes the entries (with offsets, for readability).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(entries, forKey: .entries)
    }
}

extension QuantizationPlan {
    /// Flattens `tensors` by `layout` and quantizes them with weight `weight`.
    public func quantize(
        _ tensors: [NamedTensor], layout: TensorLayout, weight: Int = 1, using rng: inout some RandomByteGenerator
    ) throws(QuantizationError) -> QuantizedUpdate {
        try quantize(layout.flatten(tensors), weight: weight, using: &rng)
    }

    /// Flattens and quantizes with randomness from the system CSPRNG.
    public func quantize(_ tensors: [NamedTensor], layout: TensorLayout, weight: Int = 1)
        throws(QuantizationError) -> QuantizedUpdate
    {
        var rng = SystemRandomGenerator()
        return try quantize(tensors, layout: layout, weight: weight, using: &rng)
    }

    /// The decoded mean (see ``decodeMean(_:includedClientCount:)``) as named tensors.
    public func decodeMean(_ aggregate: [UInt64], layout: TensorLayout, includedClientCount: Int)
        throws(QuantizationError) -> [NamedTensor]
    {
        guard aggregate.count == vectorLength(valueCount: layout.elementCount) else {
            throw .vectorLengthMismatch(
                actual: aggregate.count, expected: vectorLength(valueCount: layout.elementCount))
        }
        return try layout.restore(decodeMean(aggregate, includedClientCount: includedClientCount))
    }

    /// The decoded sum (see ``decodeSum(_:includedClientCount:)``) as named tensors.
    public func decodeSum(_ aggregate: [UInt64], layout: TensorLayout, includedClientCount: Int)
        throws(QuantizationError) -> [NamedTensor]
    {
        guard aggregate.count == vectorLength(valueCount: layout.elementCount) else {
            throw .vectorLengthMismatch(
                actual: aggregate.count, expected: vectorLength(valueCount: layout.elementCount))
        }
        return try layout.restore(decodeSum(aggregate, includedClientCount: includedClientCount))
    }
}
