extension QuantizationError {
    /// The case's name, as vector files and the C ABI report it (SPEC.md §16 lists the normative ones).
    package var caseName: String {
        switch self {
        case .elementOutOfRange: "elementOutOfRange"
        case .invalidModulus: "invalidModulus"
        case .invalidPlanParameter: "invalidPlanParameter"
        case .wrapUnavoidable: "wrapUnavoidable"
        case .precisionUnattainable: "precisionUnattainable"
        case .nonFiniteValue: "nonFiniteValue"
        case .weightOutOfRange: "weightOutOfRange"
        case .vectorLengthMismatch: "vectorLengthMismatch"
        case .includedClientCountOutOfRange: "includedClientCountOutOfRange"
        case .aggregateOutOfRange: "aggregateOutOfRange"
        case .zeroTotalWeight: "zeroTotalWeight"
        case .invalidLayout: "invalidLayout"
        case .missingTensor: "missingTensor"
        case .unexpectedTensor: "unexpectedTensor"
        case .tensorShapeMismatch: "tensorShapeMismatch"
        case .tensorDTypeMismatch: "tensorDTypeMismatch"
        case .tensorValueCountMismatch: "tensorValueCountMismatch"
        case .truncatedFile: "truncatedFile"
        case .malformedHeader: "malformedHeader"
        case .headerTooLarge: "headerTooLarge"
        case .unsupportedVersion: "unsupportedVersion"
        case .unsupportedDType: "unsupportedDType"
        case .dataByteCountMismatch: "dataByteCountMismatch"
        case .invalidDataOffsets: "invalidDataOffsets"
        case .fileAccessFailed: "fileAccessFailed"
        }
    }
}
