import SecAggQuantization

/// The writers' output as SPEC.md §9 describes it, built here from the text of the specification, so
/// that the model-file targets can compare `NpyFile.encode` and `SafeTensorsFile.encode` byte for byte.
enum SpecifiedWriters {
    /// §9.1: NumPy 2's layout for F32 (`<f4`) and F64 (`<f8`).
    static func npy(_ tensor: NamedTensor) -> [UInt8] {
        let descr = tensor.dtype == .float32 ? "<f4" : "<f8"
        let shape: String
        switch tensor.shape.count {
        case 0: shape = "()"
        case 1: shape = "(\(tensor.shape[0]),)"
        default: shape = "(" + tensor.shape.map { String($0) }.joined(separator: ", ") + ")"
        }
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        if let first = tensor.shape.first {
            header += [UInt8](repeating: 0x20, count: 21 - String(first).count)
        }
        func padding(_ lengthField: Int) -> Int { 64 - ((6 + 2 + lengthField + header.count + 1) % 64) }
        let wide = header.count + padding(2) + 1 > 65_535
        let lengthField = wide ? 4 : 2
        header += [UInt8](repeating: 0x20, count: padding(lengthField)) + [0x0A]
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [wide ? 2 : 1, 0]
        out += littleEndian(UInt64(header.count), byteCount: lengthField)
        return out + header + data(tensor)
    }

    /// §9.2: the reference writer's layout for F32 and F64 tensors.
    static func safetensors(_ tensors: [NamedTensor], metadata: [String: String]) -> [UInt8] {
        func byBytes(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }
        let ordered = tensors.sorted {
            $0.dtype.byteCount != $1.dtype.byteCount
                ? $0.dtype.byteCount > $1.dtype.byteCount : byBytes($0.name, $1.name)
        }
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted(by: byBytes).map { "\(json($0)):\(json(metadata[$0] ?? ""))" }
            fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.values.count * tensor.dtype.byteCount
            let shape = tensor.shape.map { String($0) }.joined(separator: ",")
            fields.append(
                "\(json(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return littleEndian(UInt64(header.count), byteCount: 8) + header + ordered.flatMap(data)
    }

    /// A JSON string as serde_json writes it: `"` and `\` escaped, \b \t \n \f \r for those controls,
    /// \u00xx (lowercase hex) for the other bytes below 0x20, everything else as UTF-8.
    static func json(_ text: String) -> String {
        var out: [UInt8] = [0x22]
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    /// The values as little-endian F32 (rounded from Float64) or F64.
    private static func data(_ tensor: NamedTensor) -> [UInt8] {
        tensor.values.flatMap { value in
            tensor.dtype == .float32
                ? littleEndian(UInt64(Float(value).bitPattern), byteCount: 4)
                : littleEndian(value.bitPattern, byteCount: 8)
        }
    }

    private static func littleEndian(_ value: UInt64, byteCount: Int) -> [UInt8] {
        (0..<byteCount).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
