internal import CSecAgg
import SecAggCrypto
import SecureAggregation

/// The library version `secagg_version` reports (the Python package's `__version__` is the same).
let libraryVersion: StaticString = "0.1.0"

/// The library version, e.g. "0.1.0".
@_cdecl("secagg_version")
public func secaggVersion() -> UnsafePointer<CChar> {
    UnsafeRawPointer(libraryVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The protocol and SPEC version (2).
@_cdecl("secagg_protocol_version")
public func secaggProtocolVersion() -> UInt32 { UInt32(SessionConfiguration.protocolVersion) }

/// The ABI version the library was built with (`SECAGG_ABI_VERSION` of its header).
@_cdecl("secagg_abi_version")
public func secaggAbiVersion() -> UInt32 { UInt32(SECAGG_ABI_VERSION) }

/// A fresh session nonce from the system CSPRNG.
@_cdecl("secagg_random_nonce")
public func secaggRandomNonce(_ out: UnsafeMutablePointer<UInt8>?, _ length: Int) -> Int32 {
    capture { () throws(CError) in
        try Arguments.write(SessionConfiguration.randomNonce(), to: out, length: length, "nonce")
    }
}

/// The default threshold ⌈2k/3⌉ (``SessionConfiguration/defaultThreshold(clientCount:graph:)``).
@_cdecl("secagg_default_threshold")
public func secaggDefaultThreshold(_ clientCount: UInt32, _ hararyDegree: UInt32) -> UInt32 {
    let graph: GraphSpecification = hararyDegree == 0 ? .complete : .harary(degree: Int(hararyDegree))
    return UInt32(
        clamping: SessionConfiguration.defaultThreshold(clientCount: Int(clientCount), graph: graph))
}

/// The Ed25519 verification key of a 32-byte signing-key seed.
@_cdecl("secagg_verification_key")
public func secaggVerificationKey(
    _ seed: UnsafePointer<UInt8>?, _ seedLength: Int, _ out: UnsafeMutablePointer<UInt8>?, _ outLength: Int
) -> Int32 {
    capture { () throws(CError) in
        let key = try SigningKeys.key(seed, length: seedLength)
        try Arguments.write(key.publicKey.rawRepresentation, to: out, length: outLength, "verification key")
    }
}

/// Ed25519 signing keys from caller memory.
enum SigningKeys {
    /// The key whose 32-byte seed is at `seed`; the seed goes straight into secret storage.
    static func key(_ seed: UnsafePointer<UInt8>?, length: Int) throws(CError) -> Ed25519.PrivateKey {
        guard length == Ed25519.seedByteCount else {
            throw .argument("a signing key is a \(Ed25519.seedByteCount)-byte Ed25519 seed, not \(length) bytes")
        }
        let seed = try Arguments.required(seed, "signing key")
        let secret = SecretBytes(byteCount: length) { buffer in
            buffer.copyMemory(from: UnsafeRawBufferPointer(start: seed, count: length))
        }
        do throws(SecAggCryptoError) {
            return try Ed25519.PrivateKey(seed: secret)
        } catch {
            throw CError(argument: error)
        }
    }
}
