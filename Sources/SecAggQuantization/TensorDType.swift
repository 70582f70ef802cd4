/// Element types of model tensors, named as in `.safetensors` headers.
public enum TensorDType: String, Codable, Hashable, Sendable, CaseIterable {
    /// IEEE 754 binary16.
    case float16 = "F16"
    /// bfloat16: the high 16 bits of a binary32.
    case bfloat16 = "BF16"
    /// IEEE 754 binary32.
    case float32 = "F32"
    /// IEEE 754 binary64.
    case float64 = "F64"
    /// Signed 32-bit integer.
    case int32 = "I32"
    /// Signed 64-bit integer.
    case int64 = "I64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float16, .bfloat16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
}
