public import Foundation

/// NumPy `.npy` files (format versions 1.0, 2.0 and 3.0; little-endian f2/f4/f8/i4/i8; C order), as
/// specified in SPEC.md §9.1. Reading never traps and never allocates more than the input justifies.
public enum NpyFile {
    /// The magic string "\x93NUMPY".
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// The largest header accepted (bytes after the length field).
    public static let maximumHeaderByteCount = 1 << 20
    /// Header alignment used by the writer (NumPy's ARRAY_ALIGN).
    public static let alignment = 64

    private static let format = "npy"

    /// Reads an array from the bytes of a `.npy` file; the tensor is called `name`.
    public static func read(_ bytes: [UInt8], name: String = "array") throws(QuantizationError) -> NamedTensor {
        try bytes.withUnsafeBytes { raw in Result { () throws(QuantizationError) in try parse(raw, name: name) } }.get()
    }

    /// Reads an array from `data`.
    public static func read(_ data: Data, name: String = "array") throws(QuantizationError) -> NamedTensor {
        try read([UInt8](data), name: name)
    }

    /// Reads a `.npy` file; the tensor is named after the file without its extension.
    public static func read(contentsOf url: URL) throws(QuantizationError) -> NamedTensor {
        try read(readFile(url), name: url.deletingPathExtension().lastPathComponent)
    }

    /// The `.npy` bytes of `tensor` (dtype F32 → `<f4`, F64 → `<f8`), laid out exactly as NumPy 2 writes
    /// them: version 1.0 (2.0 when the header exceeds 65,535 bytes), header padded to 64 bytes.
    public static func encode(_ tensor: NamedTensor) throws(QuantizationError) -> [UInt8] {
        let descr: String
        switch tensor.dtype {
        case .float32: descr = "<f4"
        case .float64: descr = "<f8"
        default: throw .unsupportedDType(format: format, dtype: tensor.dtype.rawValue)
        }
        let count = try TensorLayout.elementCount(of: tensor.shape, name: tensor.name)
        guard count == tensor.values.count else {
            throw .tensorValueCountMismatch(name: tensor.name, expected: count, actual: tensor.values.count)
        }
        let shape: String
        switch tensor.shape.count {
        case 0: shape = "()"
        case 1: shape = "(\(tensor.shape[0]),)"
        default: shape = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // NumPy leaves room to grow the first axis in place: 21 digits minus those used.
        if let first = tensor.shape.first { header += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        var headerBytes = Array(header.utf8)
        var lengthFieldByteCount = 2
        var version: UInt8 = 1
        if headerBytes.count + 1 + alignment > 65_535 {
            lengthFieldByteCount = 4
            version = 2
        }
        let padding = alignment - ((magic.count + 2 + lengthFieldByteCount + headerBytes.count + 1) % alignment)
        headerBytes += [UInt8](repeating: 0x20, count: padding) + [0x0A]
        var out = magic + [version, 0]
        let length = UInt32(headerBytes.count)
        for i in 0..<lengthFieldByteCount { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt32(i)))) }
        out += headerBytes
        TensorDType.appendLittleEndian(tensor.values, as: tensor.dtype, to: &out)
        return out
    }

    /// Writes `tensor` as a `.npy` file.
    public static func write(_ tensor: NamedTensor, to url: URL) throws(QuantizationError) {
        try writeFile(encode(tensor), to: url)
    }

    // MARK: Parsing

    private static func parse(_ bytes: UnsafeRawBufferPointer, name: String) throws(QuantizationError)
        -> NamedTensor
    {
        guard bytes.count >= 10 else {
            throw .truncatedFile(format: format, byteCount: bytes.count, requiredByteCount: 10)
        }
        guard Array(bytes[0..<6]) == magic else { throw .malformedHeader(format: format, reason: "bad magic string") }
        let major = bytes[6]
        let minor = bytes[7]
        let lengthFieldByteCount: Int
        switch (major, minor) {
        case (1, 0): lengthFieldByteCount = 2
        case (2, 0), (3, 0): lengthFieldByteCount = 4
        default: throw .unsupportedVersion(format: format, version: "\(major).\(minor)")
        }
        let headerStart = 8 + lengthFieldByteCount
        guard bytes.count >= headerStart else {
            throw .truncatedFile(format: format, byteCount: bytes.count, requiredByteCount: headerStart)
        }
        var headerLength = 0
        for i in 0..<lengthFieldByteCount { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        guard headerLength <= maximumHeaderByteCount else {
            throw .headerTooLarge(format: format, byteCount: headerLength, maximum: maximumHeaderByteCount)
        }
        let dataStart = headerStart + headerLength
        guard bytes.count >= dataStart else {
            throw .truncatedFile(format: format, byteCount: bytes.count, requiredByteCount: dataStart)
        }
        var parser = DictionaryParser(bytes: Array(bytes[headerStart..<dataStart]))
        let header = try parser.parse()
        guard case let .string(descr)? = header["descr"], case let .bool(fortranOrder)? = header["fortran_order"],
            case let .tuple(shape)? = header["shape"], header.count == 3
        else {
            throw .malformedHeader(format: format, reason: "needs exactly the keys descr, fortran_order and shape")
        }
        let dtype: TensorDType
        switch descr {
        case "<f2": dtype = .float16
        case "<f4": dtype = .float32
        case "<f8": dtype = .float64
        case "<i4": dtype = .int32
        case "<i8": dtype = .int64
        default: throw .unsupportedDType(format: format, dtype: descr)
        }
        // A 0- or 1-dimensional array is the same in both orders.
        guard !fortranOrder || shape.count <= 1 else {
            throw .malformedHeader(format: format, reason: "Fortran order is not supported")
        }
        let count = try TensorLayout.elementCount(of: shape, name: name)
        let dataByteCount = bytes.count - dataStart
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, expected == dataByteCount else {
            if !overflow, dataByteCount < expected {
                throw .truncatedFile(format: format, byteCount: bytes.count, requiredByteCount: dataStart + expected)
            }
            throw .dataByteCountMismatch(name: name, expected: overflow ? Int.max : expected, actual: dataByteCount)
        }
        let values = dtype.decodeLittleEndian(bytes, offset: dataStart, count: count)
        return NamedTensor(unchecked: name, shape: shape, dtype: dtype, values: values)
    }

    /// The values a `.npy` header dictionary can hold.
    private enum HeaderValue: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    /// A parser for the Python literal dictionary of a `.npy` header: string keys, values that are
    /// strings, True/False, or tuples of non-negative integers; trailing commas allowed; the rest spaces
    /// and a final newline.
    private struct DictionaryParser {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func parse() throws(QuantizationError) -> [String: HeaderValue] {
            var result: [String: HeaderValue] = [:]
            skipSpace()
            try expect(UInt8(ascii: "{"))
            while true {
                skipSpace()
                if peek() == UInt8(ascii: "}") {
                    position += 1
                    break
                }
                let key = try parseString()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                let value = try parseValue()
                guard result.updateValue(value, forKey: key) == nil else { throw fail("duplicate key \(key)") }
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                } else if peek() != UInt8(ascii: "}") {
                    throw fail("expected , or }")
                }
            }
            skipSpace()
            guard position == bytes.count else { throw fail("unexpected bytes after the dictionary") }
            return result
        }

        private func fail(_ reason: String) -> QuantizationError { .malformedHeader(format: "npy", reason: reason) }

        private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        private mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D { position += 1 }
        }

        private mutating func expect(_ c: UInt8) throws(QuantizationError) {
            guard peek() == c else { throw fail("expected \(Character(Unicode.Scalar(c)))") }
            position += 1
        }

        private mutating func parseString() throws(QuantizationError) -> String {
            guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw fail("expected a string")
            }
            position += 1
            let start = position
            while let c = peek(), c != quote {
                // Plain ASCII only: escapes and non-ASCII never occur in supported headers.
                guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else {
                    throw fail("unsupported character in string")
                }
                position += 1
            }
            guard peek() == quote else { throw fail("unterminated string") }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            position += 1
            return text
        }

        private mutating func parseValue() throws(QuantizationError) -> HeaderValue {
            switch peek() {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "T"):
                try keyword("True")
                return .bool(true)
            case UInt8(ascii: "F"):
                try keyword("False")
                return .bool(false)
            case UInt8(ascii: "("): return .tuple(try parseTuple())
            default: throw fail("unsupported value")
            }
        }

        private mutating func keyword(_ word: String) throws(QuantizationError) {
            let utf8 = Array(word.utf8)
            guard position + utf8.count <= bytes.count, Array(bytes[position..<(position + utf8.count)]) == utf8 else {
                throw fail("unsupported value")
            }
            position += utf8.count
        }

        private mutating func parseTuple() throws(QuantizationError) -> [Int] {
            try expect(UInt8(ascii: "("))
            var items: [Int] = []
            while true {
                skipSpace()
                if peek() == UInt8(ascii: ")") {
                    position += 1
                    break
                }
                var value = 0
                var digits = 0
                while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                    let (times, o1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
                    guard !o1, !o2 else { throw fail("dimension too large") }
                    value = sum
                    digits += 1
                    position += 1
                }
                guard digits > 0 else { throw fail("expected a dimension") }
                guard items.count < 64 else { throw fail("more than 64 dimensions") }
                items.append(value)
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                } else if peek() != UInt8(ascii: ")") {
                    throw fail("expected , or ) in shape")
                }
            }
            return items
        }
    }
}

/// Reads a whole file, mapping failures to ``QuantizationError/fileAccessFailed(path:reason:)``.
func readFile(_ url: URL) throws(QuantizationError) -> [UInt8] {
    do {
        return [UInt8](try Data(contentsOf: url, options: .mappedIfSafe))
    } catch {
        throw .fileAccessFailed(path: url.path, reason: "\(error.localizedDescription)")
    }
}

/// Writes a whole file atomically.
func writeFile(_ bytes: [UInt8], to url: URL) throws(QuantizationError) {
    do {
        try Data(bytes).write(to: url, options: .atomic)
    } catch {
        throw .fileAccessFailed(path: url.path, reason: "\(error.localizedDescription)")
    }
}
