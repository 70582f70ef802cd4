public import Foundation

/// `.safetensors` files (SPEC.md §9.2): an 8-byte little-endian header size N, N bytes of JSON header,
/// then the data section. Reads F16, BF16, F32, F64, I32 and I64; writes F32 and F64.
public enum SafeTensorsFile {
    /// The largest header accepted (the reference implementation's limit, 100 MB).
    public static let maximumHeaderByteCount = 100_000_000
    /// The header's optional string-to-string metadata key.
    public static let metadataKey = "__metadata__"

    private static let format = "safetensors"

    /// The tensors of a file, in data-offset order, and its metadata.
    public struct Contents: Hashable, Sendable {
        /// Tensors in the order of their data offsets.
        public var tensors: [NamedTensor]
        /// The `__metadata__` map (empty when absent).
        public var metadata: [String: String]
    }

    /// Reads the bytes of a `.safetensors` file.
    public static func read(_ bytes: [UInt8]) throws(QuantizationError) -> Contents {
        try bytes.withUnsafeBytes { raw in Result { () throws(QuantizationError) in try parse(raw) } }.get()
    }

    /// Reads `.safetensors` data.
    public static func read(_ data: Data) throws(QuantizationError) -> Contents {
        try read([UInt8](data))
    }

    /// Reads a `.safetensors` file.
    public static func read(contentsOf url: URL) throws(QuantizationError) -> Contents {
        try read(readFile(url))
    }

    /// The file bytes for `tensors` (dtype F32 or F64), laid out as the reference writer does: tensors
    /// sorted by item size (largest first) then name, compact JSON, header padded with spaces to a
    /// multiple of 8 bytes.
    public static func encode(_ tensors: [NamedTensor], metadata: [String: String] = [:]) throws(QuantizationError)
        -> [UInt8]
    {
        var names = Set<String>()
        for tensor in tensors {
            guard tensor.dtype == .float32 || tensor.dtype == .float64 else {
                throw .unsupportedDType(format: format, dtype: tensor.dtype.rawValue)
            }
            guard names.insert(tensor.name).inserted, tensor.name != metadataKey else {
                throw .invalidLayout(reason: "duplicate or reserved tensor name \"\(tensor.name)\"")
            }
            let count = try TensorLayout.elementCount(of: tensor.shape, name: tensor.name)
            guard count == tensor.values.count else {
                throw .tensorValueCountMismatch(name: tensor.name, expected: count, actual: tensor.values.count)
            }
        }
        // Names and keys in UTF-8 byte order (SPEC.md §9.2). Swift's `<` compares Unicode canonical forms,
        // which orders decomposed (non-NFC) names differently.
        func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        let ordered = tensors.sorted {
            $0.dtype.byteCount != $1.dtype.byteCount
                ? $0.dtype.byteCount > $1.dtype.byteCount : precedes($0.name, $1.name)
        }
        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted(by: precedes).map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            fields.append("\(jsonString(metadataKey)):{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.values.count * tensor.dtype.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out += headerBytes
        for tensor in ordered { TensorDType.appendLittleEndian(tensor.values, as: tensor.dtype, to: &out) }
        return out
    }

    /// Writes `tensors` as a `.safetensors` file.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String] = [:], to url: URL)
        throws(QuantizationError)
    {
        try writeFile(encode(tensors, metadata: metadata), to: url)
    }

    // MARK: Parsing

    private struct Entry {
        var name: String
        var dtype: TensorDType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) throws(QuantizationError) -> Contents {
        guard bytes.count >= 8 else {
            throw .truncatedFile(format: format, byteCount: bytes.count, requiredByteCount: 8)
        }
        var size: UInt64 = 0
        for i in 0..<8 { size |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard size <= UInt64(maximumHeaderByteCount) else {
            throw .headerTooLarge(format: format, byteCount: Int(clamping: size), maximum: maximumHeaderByteCount)
        }
        let headerByteCount = Int(size)
        guard bytes.count >= 8 + headerByteCount else {
            throw .truncatedFile(format: format, byteCount: bytes.count, requiredByteCount: 8 + headerByteCount)
        }
        let headerBytes = Data(bytes[8..<(8 + headerByteCount)])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw .malformedHeader(format: format, reason: "header does not start with {")
        }
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw .malformedHeader(format: format, reason: "header is not UTF-8")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw .malformedHeader(format: format, reason: "header is not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else {
            throw .malformedHeader(format: format, reason: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in dictionary {
            if name == metadataKey {
                guard let map = value as? [String: Any] else {
                    throw .malformedHeader(format: format, reason: "__metadata__ is not an object")
                }
                for (key, item) in map {
                    guard let text = item as? String else {
                        throw .malformedHeader(format: format, reason: "__metadata__ value for \(key) is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            entries.append(try parseEntry(name: name, value))
        }
        // The data section must be covered exactly: sorted by offsets, each tensor starts where the
        // previous one ended, the first at 0 and the last at the end of the file.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        let dataByteCount = bytes.count - 8 - headerByteCount
        var expectedBegin = 0
        for entry in entries {
            guard entry.begin <= entry.end else {
                throw .invalidDataOffsets(name: entry.name, reason: "end before begin")
            }
            guard entry.end <= dataByteCount else {
                throw .invalidDataOffsets(name: entry.name, reason: "beyond the \(dataByteCount)-byte data section")
            }
            guard entry.begin == expectedBegin else {
                throw .invalidDataOffsets(
                    name: entry.name,
                    reason: entry.begin < expectedBegin ? "overlaps the previous tensor" : "leaves a gap before it")
            }
            let count = try TensorLayout.elementCount(of: entry.shape, name: entry.name)
            let (expected, overflow) = count.multipliedReportingOverflow(by: entry.dtype.byteCount)
            guard !overflow, expected == entry.end - entry.begin else {
                throw .dataByteCountMismatch(
                    name: entry.name, expected: overflow ? Int.max : expected,
                    actual: entry.end - entry.begin)
            }
            expectedBegin = entry.end
        }
        guard expectedBegin == dataByteCount else {
            throw .invalidDataOffsets(
                name: entries.last?.name ?? "",
                reason: "\(dataByteCount - expectedBegin) trailing data bytes are not covered by any tensor")
        }
        let dataStart = 8 + headerByteCount
        let tensors = entries.map { entry in
            NamedTensor(
                unchecked: entry.name, shape: entry.shape, dtype: entry.dtype,
                values: entry.dtype.decodeLittleEndian(
                    bytes, offset: dataStart + entry.begin,
                    count: (entry.end - entry.begin) / entry.dtype.byteCount))
        }
        return Contents(tensors: tensors, metadata: metadata)
    }

    private static func parseEntry(name: String, _ value: Any) throws(QuantizationError) -> Entry {
        guard let fields = value as? [String: Any], let dtypeName = fields["dtype"] as? String,
            let shapeItems = fields["shape"] as? [Any], let offsetItems = fields["data_offsets"] as? [Any]
        else {
            throw .malformedHeader(format: format, reason: "tensor \"\(name)\" needs dtype, shape and data_offsets")
        }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw .unsupportedDType(format: format, dtype: dtypeName)
        }
        let shape = try integers(shapeItems, name: name)
        let offsets = try integers(offsetItems, name: name)
        guard offsets.count == 2 else {
            throw .invalidDataOffsets(name: name, reason: "needs exactly [begin, end]")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    private static func integers(_ items: [Any], name: String) throws(QuantizationError) -> [Int] {
        guard items.count <= 64 else { throw .malformedHeader(format: format, reason: "\"\(name)\": too many items") }
        var result: [Int] = []
        for item in items {
            // Accept only genuine non-negative integers (not true/false, not 2.5).
            guard let number = item as? NSNumber, let value = Int(exactly: number.doubleValue),
                value >= 0, number.stringValue == String(value)
            else {
                throw .malformedHeader(format: format, reason: "\"\(name)\": expected non-negative integers")
            }
            result.append(value)
        }
        return result
    }

    /// A JSON string literal with the escapes serde_json uses.
    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
