internal import CSecAgg
import SecAggCrypto
import SecAggQuantization
import SecureAggregation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure of a C ABI call: its status (`SECAGG_*`), the name of the error case behind it, and one line of
/// description (never secret material: the engine's errors carry indices, sizes and names only).
struct CError: Error {
    let status: Int32
    let kind: String
    let message: String

    init(status: Int32, kind: String, message: String) {
        self.status = status
        self.kind = kind
        self.message = message
    }

    /// A caller error (`SECAGG_INVALID_ARGUMENT`).
    static func argument(_ message: String) -> CError {
        CError(status: Int32(SECAGG_INVALID_ARGUMENT), kind: "invalidArgument", message: message)
    }

    /// Not available in the current state (`SECAGG_INVALID_STATE`).
    static func state(_ message: String) -> CError {
        CError(status: Int32(SECAGG_INVALID_STATE), kind: "invalidState", message: message)
    }

    /// An engine error: the status of its category, its case name and its description.
    init(_ error: SecAggError) {
        let protocolError = Int32(SECAGG_PROTOCOL_ERROR)
        let configuration = Int32(SECAGG_CONFIGURATION_ERROR)
        let (status, kind): (Int32, String)
        switch error {
        case .wire(let wire):
            self.init(wire)
            return
        case .crypto(let crypto): (status, kind) = (protocolError, Self.kind(of: crypto))
        case .alreadyAborted: (status, kind) = (protocolError, "alreadyAborted")
        case .alreadyCompleted: (status, kind) = (protocolError, "alreadyCompleted")
        case .badSignature: (status, kind) = (protocolError, "badSignature")
        case .shareDecryptionFailed: (status, kind) = (protocolError, "shareDecryptionFailed")
        case .conflictingShareRequest: (status, kind) = (protocolError, "conflictingShareRequest")
        case .invalidConfiguration: (status, kind) = (configuration, "invalidConfiguration")
        case .invalidInput: (status, kind) = (Int32(SECAGG_INVALID_ARGUMENT), "invalidInput")
        case .inconsistentServerMessage: (status, kind) = (protocolError, "inconsistentServerMessage")
        case .invalidClientMessage: (status, kind) = (protocolError, "invalidClientMessage")
        case .insufficientClients: (status, kind) = (protocolError, "insufficientClients")
        case .insufficientShares: (status, kind) = (protocolError, "insufficientShares")
        case .insufficientSignatures: (status, kind) = (protocolError, "insufficientSignatures")
        case .notParticipating: (status, kind) = (protocolError, "notParticipating")
        case .duplicateMessage: (status, kind) = (protocolError, "duplicateMessage")
        case .wrongSession: (status, kind) = (protocolError, "wrongSession")
        case .unexpectedMessage: (status, kind) = (protocolError, "unexpectedMessage")
        case .reconstructionFailed: (status, kind) = (protocolError, "reconstructionFailed")
        case .serverAborted: (status, kind) = (protocolError, "serverAborted")
        case .abortedByCaller: (status, kind) = (protocolError, "abortedByCaller")
        case .insecureThreshold: (status, kind) = (configuration, "insecureThreshold")
        case .resourceLimitExceeded: (status, kind) = (configuration, "resourceLimitExceeded")
        case .selfTestFailed: (status, kind) = (configuration, "selfTestFailed")
        case .missingSeedReveals: (status, kind) = (protocolError, "missingSeedReveals")
        }
        self.init(status: status, kind: kind, message: error.description)
    }

    /// A wire-format error (`SECAGG_WIRE_FORMAT_ERROR`).
    init(_ error: WireFormatError) {
        let kind =
            switch error {
            case .countOutOfRange: "countOutOfRange"
            case .duplicateOrUnorderedIndex: "duplicateOrUnorderedIndex"
            case .indexOutOfRange: "indexOutOfRange"
            case .invalidField: "invalidField"
            case .trailingBytes: "trailingBytes"
            case .truncated: "truncated"
            case .unknownTag: "unknownTag"
            case .unsupportedVersion: "unsupportedVersion"
            }
        self.init(status: Int32(SECAGG_WIRE_FORMAT_ERROR), kind: kind, message: "wire format: \(error)")
    }

    /// A quantization error (`SECAGG_QUANTIZATION_ERROR`).
    init(_ error: QuantizationError) {
        let kind = error.caseName
        self.init(status: Int32(SECAGG_QUANTIZATION_ERROR), kind: kind, message: error.description)
    }

    /// A primitive's error outside a protocol step (a malformed key from the caller): `SECAGG_INVALID_ARGUMENT`.
    init(argument error: SecAggCryptoError) {
        self.init(status: Int32(SECAGG_INVALID_ARGUMENT), kind: Self.kind(of: error), message: "\(error)")
    }

    private static func kind(of error: SecAggCryptoError) -> String {
        switch error {
        case .authenticationFailure: "authenticationFailure"
        case .hkdfOutputTooLong: "hkdfOutputTooLong"
        case .inconsistentShares: "inconsistentShares"
        case .duplicateShareIndex: "duplicateShareIndex"
        case .incorrectByteCount: "incorrectByteCount"
        case .invalidCiphertextByteCount: "invalidCiphertextByteCount"
        case .invalidModulus: "invalidModulus"
        case .invalidPublicKey: "invalidPublicKey"
        case .invalidSignature: "invalidSignature"
        case .invalidShareValue: "invalidShareValue"
        case .invalidThreshold: "invalidThreshold"
        case .maskLengthExceedsCounterSpace: "maskLengthExceedsCounterSpace"
        case .merkleSlotCountOutOfRange: "merkleSlotCountOutOfRange"
        case .notEnoughShares: "notEnoughShares"
        case .sodiumInitializationFailed: "sodiumInitializationFailed"
        case .underlyingSodiumError: "underlyingSodiumError"
        case .zeroShareIndex: "zeroShareIndex"
        }
    }
}

/// Runs the body of a C ABI call: `SECAGG_OK`, or the status of the error it threw, recorded as the calling
/// thread's last error.
func capture(_ body: () throws(CError) -> Void) -> Int32 {
    do {
        try body()
        return Int32(SECAGG_OK)
    } catch {
        LastError.record(error)
        return error.status
    }
}

/// The calling thread's last error, as C strings that stay valid until the thread's next failure.
enum LastError {
    /// Per-thread storage: a retained ``Slot``, released when the thread exits.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // Without a key the last error cannot be kept; the calls still return their status.
        _ = pthread_key_create(&key) { slot in
            guard let slot else { return }
            Unmanaged<Slot>.fromOpaque(slot).release()
        }
        return key
    }()

    private final class Slot {
        var message: UnsafeMutablePointer<CChar>?
        var kind: UnsafeMutablePointer<CChar>?

        deinit {
            free(message)
            free(kind)
        }
    }

    private static var slot: Slot {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<Slot>.fromOpaque(existing).takeUnretainedValue()
        }
        let created = Slot()
        _ = pthread_setspecific(key, Unmanaged.passRetained(created).toOpaque())
        return created
    }

    static func record(_ error: CError) {
        let slot = slot
        free(slot.message)
        free(slot.kind)
        slot.message = strdup(error.message)
        slot.kind = strdup(error.kind)
    }

    static var message: UnsafePointer<CChar> { slot.message.map { UnsafePointer($0) } ?? emptyString }
    static var kind: UnsafePointer<CChar> { slot.kind.map { UnsafePointer($0) } ?? emptyString }

    private static var emptyString: UnsafePointer<CChar> {
        UnsafeRawPointer(("" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// The calling thread's last error message ("" when no call failed on this thread).
@_cdecl("secagg_last_error_message")
public func secaggLastErrorMessage() -> UnsafePointer<CChar> { LastError.message }

/// The name of the error case behind the calling thread's last failure ("" when none).
@_cdecl("secagg_last_error_kind")
public func secaggLastErrorKind() -> UnsafePointer<CChar> { LastError.kind }
