extension TensorDType {
    /// Decodes `count` little-endian elements starting at `offset` of `bytes` (the caller checked the range).
    func decodeLittleEndian(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int) -> [Double] {
        guard let base = bytes.baseAddress, count > 0 else { return [] }
        let start = base + offset
        return [Double](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                let value: Double
                switch self {
                case .float16:
                    value = Self.halfToDouble(
                        UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case .bfloat16:
                    let bits = UInt32(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    value = Double(Float(bitPattern: bits << 16))
                case .float32:
                    value = Double(
                        Float(
                            bitPattern: UInt32(
                                littleEndian: start.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
                case .float64:
                    value = Double(
                        bitPattern: UInt64(littleEndian: start.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                case .int32:
                    value = Double(Int32(littleEndian: start.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .int64:
                    value = Double(Int64(littleEndian: start.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
                (out.baseAddress.unsafelyUnwrapped + i).initialize(to: value)
            }
            initialized = count
        }
    }

    /// Appends `values` as little-endian F32 or F64 (the writable dtypes).
    static func appendLittleEndian(_ values: [Double], as dtype: TensorDType, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + values.count * dtype.byteCount)
        for v in values {
            if dtype == .float32 {
                withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { out.append(contentsOf: $0) }
            } else {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
    }

    /// IEEE 754 binary16 → binary64 (exact), without relying on the platform's Float16.
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction * 0x1p-10) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
