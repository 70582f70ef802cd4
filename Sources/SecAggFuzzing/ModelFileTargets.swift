import SecAggQuantization

/// `npy` and `safetensors`: the model-update readers of SPEC.md §9 on arbitrary bytes. A reader throws a
/// `QuantizationError` or returns tensors whose value count matches their shape; writing what was read
/// and reading it back gives the same names, shapes, dtypes and values (bit for bit, NaN payloads
/// included); and the writer's output is a fixed point (re-encoding it gives the same bytes).
///
/// The values are also checked against a decoder written here from the IEEE 754 and two's complement
/// definitions: the data section is the end of the file, tensor after tensor in the order the reader
/// returns them (data-offset order, SPEC.md §9.2), so every value is determined by the input alone.
///
/// The writers only produce F32 and F64. Tensors of other dtypes are written under the writable dtype
/// that holds their values exactly (F16, BF16 → F32; I32, I64 → F64: the reader already returned I64 as
/// Float64), so every decoded tensor goes through the writer, whose bytes must be exactly the layout
/// SPEC.md §9 prescribes (`SpecifiedWriters`).
enum ModelFileTargets {
    static let npy = FuzzTarget(
        name: "npy",
        summary: ".npy reader: typed error, or tensors that survive write + read bit for bit",
        run: runNpy)

    static let safetensors = FuzzTarget(
        name: "safetensors",
        summary: ".safetensors reader: typed error, or tensors and metadata that survive write + read bit for bit",
        run: runSafeTensors)

    static func runNpy(_ bytes: [UInt8]) {
        let tensor: NamedTensor
        do {
            tensor = try NpyFile.read(bytes, name: "fuzz")
        } catch {
            _ = error.description
            return
        }
        checkShape(tensor, target: "npy")
        guard tensor.name == "fuzz" else { violation("npy", "tensor name \(tensor.name), expected the given name") }
        checkValues([tensor], in: bytes, target: "npy")
        let writable = writableCopy(tensor)
        let encoded: [UInt8]
        do {
            encoded = try NpyFile.encode(writable)
        } catch {
            violation("npy", "the writer refuses a tensor the reader returned (\(describe(writable))): \(error)")
        }
        let specified = SpecifiedWriters.npy(writable)
        guard encoded == specified else {
            violation(
                "npy",
                "the writer's bytes differ from SPEC.md §9.1 for \(describe(writable)): \(encoded.hexString), "
                    + "specified \(specified.hexString)")
        }
        let back: NamedTensor
        do {
            back = try NpyFile.read(encoded, name: "fuzz")
        } catch {
            violation("npy", "the reader rejects the writer's output for \(describe(writable)): \(error)")
        }
        guard identical(back, writable) else {
            violation("npy", "write + read changed the tensor: \(describe(writable)) became \(describe(back))")
        }
        guard let again = try? NpyFile.encode(back), again == encoded else {
            violation("npy", "the writer's output is not a fixed point for \(describe(writable))")
        }
    }

    static func runSafeTensors(_ bytes: [UInt8]) {
        let contents: SafeTensorsFile.Contents
        do {
            contents = try SafeTensorsFile.read(bytes)
        } catch {
            _ = error.description
            return
        }
        var names = Set<[UInt8]>()
        for tensor in contents.tensors {
            checkShape(tensor, target: "safetensors")
            guard tensor.name != SafeTensorsFile.metadataKey, names.insert(Array(tensor.name.utf8)).inserted else {
                violation(
                    "safetensors",
                    "the reader returned a reserved or duplicate tensor name \(tensor.name.debugDescription)")
            }
        }
        checkValues(contents.tensors, in: bytes, target: "safetensors")
        let writable = contents.tensors.map(writableCopy)
        let encoded: [UInt8]
        do {
            encoded = try SafeTensorsFile.encode(writable, metadata: contents.metadata)
        } catch {
            violation(
                "safetensors", "the writer refuses what the reader returned (\(writable.map(describe))): \(error)")
        }
        let specified = SpecifiedWriters.safetensors(writable, metadata: contents.metadata)
        guard encoded == specified else {
            violation(
                "safetensors",
                "the writer's bytes differ from SPEC.md §9.2 (tensors by item size, then name in UTF-8 byte order; "
                    + "metadata keys sorted; serde_json escapes) for \(writable.map(describe)), metadata "
                    + "\(contents.metadata): \(encoded.hexString), specified \(specified.hexString)")
        }
        let back: SafeTensorsFile.Contents
        do {
            back = try SafeTensorsFile.read(encoded)
        } catch {
            violation("safetensors", "the reader rejects the writer's output for \(writable.map(describe)): \(error)")
        }
        // Compare by name (UTF-8 bytes, not Unicode equivalence).
        var byName: [[UInt8]: NamedTensor] = [:]
        for tensor in back.tensors { byName[Array(tensor.name.utf8)] = tensor }
        guard back.tensors.count == writable.count, byName.count == writable.count else {
            violation(
                "safetensors",
                "write + read changed the tensor count from \(writable.count) to \(back.tensors.count)")
        }
        for tensor in writable {
            guard let other = byName[Array(tensor.name.utf8)], identical(other, tensor) else {
                violation(
                    "safetensors",
                    "write + read changed \(describe(tensor)) into \(byName[Array(tensor.name.utf8)].map(describe) ?? "nothing")"
                )
            }
        }
        guard sameStrings(back.metadata, contents.metadata) else {
            violation("safetensors", "write + read changed the metadata \(contents.metadata) into \(back.metadata)")
        }
        guard let again = try? SafeTensorsFile.encode(back.tensors, metadata: back.metadata), again == encoded else {
            violation("safetensors", "the writer's output is not a fixed point for \(writable.map(describe))")
        }
    }

    /// The value count equals the product of the shape (the reader promises it; the product cannot
    /// overflow because the values exist).
    private static func checkShape(_ tensor: NamedTensor, target: String) {
        var product = 1
        for dimension in tensor.shape {
            guard dimension >= 0 else { violation(target, "negative dimension in \(tensor.shape)") }
            let (p, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { violation(target, "shape \(tensor.shape) overflows") }
            product = p
        }
        guard product == tensor.values.count else {
            violation(
                target,
                "tensor \(tensor.name.debugDescription): shape \(tensor.shape) but \(tensor.values.count) values")
        }
    }

    /// The tensors' data, one after the other, must be the last bytes of the file and decode to the values
    /// the reader returned (NaN for NaN: the readers may canonicalise NaN payloads of F16).
    private static func checkValues(_ tensors: [NamedTensor], in file: [UInt8], target: String) {
        let total = tensors.reduce(0) { $0 + $1.values.count * $1.dtype.byteCount }
        guard total <= file.count else { violation(target, "\(total) bytes of values in a \(file.count)-byte file") }
        var offset = file.count - total
        for tensor in tensors {
            let size = tensor.dtype.byteCount
            for (i, value) in tensor.values.enumerated() {
                let start = offset + i * size
                let want = referenceValue(file[start..<(start + size)], dtype: tensor.dtype)
                guard value.bitPattern == want.bitPattern || (value.isNaN && want.isNaN) else {
                    violation(
                        target,
                        "tensor \(tensor.name.debugDescription) (\(tensor.dtype.rawValue)) value \(i) is \(value) "
                            + "(0x\(String(value.bitPattern, radix: 16))); its bytes \(Array(file[start..<(start + size)]).hexString) "
                            + "are \(want) (0x\(String(want.bitPattern, radix: 16)))")
                }
            }
            offset += tensor.values.count * size
        }
    }

    /// One little-endian element, decoded from the format definitions.
    static func referenceValue(_ bytes: ArraySlice<UInt8>, dtype: TensorDType) -> Double {
        let raw = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        switch dtype {
        case .float16:
            // binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
            let negative = raw >> 15 == 1
            let exponent = Int((raw >> 10) & 0x1F)
            let fraction = Double(raw & 0x3FF)
            let magnitude: Double
            switch exponent {
            case 0: magnitude = fraction * 0x1p-24  // subnormal: fraction · 2^(1 − 15 − 10)
            case 31: magnitude = fraction == 0 ? .infinity : .nan
            default: magnitude = (1024 + fraction) * Double(sign: .plus, exponent: exponent - 25, significand: 1)
            }
            return negative ? -magnitude : magnitude
        case .bfloat16: return Double(Float(bitPattern: UInt32(raw) << 16))
        case .float32: return Double(Float(bitPattern: UInt32(raw)))
        case .float64: return Double(bitPattern: raw)
        case .int32: return Double(Int32(bitPattern: UInt32(raw)))
        case .int64: return Double(Int64(bitPattern: raw))
        }
    }

    /// The tensor under the writable dtype that holds its values exactly.
    static func writableCopy(_ tensor: NamedTensor) -> NamedTensor {
        var copy = tensor
        switch tensor.dtype {
        case .float16, .bfloat16: copy.dtype = .float32
        case .int32, .int64: copy.dtype = .float64
        case .float32, .float64: break
        }
        return copy
    }

    /// Same name (bytes), shape, dtype and value bits.
    static func identical(_ a: NamedTensor, _ b: NamedTensor) -> Bool {
        Array(a.name.utf8) == Array(b.name.utf8) && a.shape == b.shape && a.dtype == b.dtype
            && a.values.count == b.values.count
            && zip(a.values, b.values).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    /// Equal as maps of UTF-8 byte strings (Swift's String equality identifies canonically equivalent
    /// strings, which a file format must not).
    private static func sameStrings(_ a: [String: String], _ b: [String: String]) -> Bool {
        func bytes(_ m: [String: String]) -> [[UInt8]: [UInt8]] {
            var out: [[UInt8]: [UInt8]] = [:]
            for (k, v) in m { out[Array(k.utf8)] = Array(v.utf8) }
            return out
        }
        return a.count == b.count && bytes(a) == bytes(b)
    }

    private static func describe(_ t: NamedTensor) -> String {
        let shown = t.values.prefix(4).map { "0x" + String($0.bitPattern, radix: 16) }.joined(separator: ", ")
        return "\(t.name.debugDescription) \(t.dtype.rawValue) \(t.shape) [\(shown)\(t.values.count > 4 ? ", …" : "")]"
    }
}
