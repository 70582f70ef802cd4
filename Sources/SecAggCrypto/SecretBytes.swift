internal import CSodiumShims

/// Heap storage for secret bytes, zeroised with `sodium_memzero` when released.
final class SecretStorage: @unchecked Sendable {
    let pointer: UnsafeMutableRawBufferPointer

    init(byteCount: Int) {
        pointer = .allocate(byteCount: max(byteCount, 1), alignment: 16)
        pointer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        CSodiumShims_memzero(pointer.baseAddress, pointer.count)
        pointer.deallocate()
    }
}

/// Bytes that must stay secret: keys, seeds, shared secrets, Shamir secrets.
///
/// Immutable once created. The memory is zeroised when the last copy is released, equality runs in
/// constant time (`sodium_memcmp`), and `description` never prints the contents. Secrets made together by
/// ``packed(_:)`` share one allocation, zeroised when the last of them is released.
public struct SecretBytes: Sendable {
    let storage: SecretStorage
    /// Where this secret starts in `storage`.
    private let offset: Int

    /// The number of bytes.
    public let byteCount: Int

    private init(storage: SecretStorage, offset: Int, byteCount: Int) {
        self.storage = storage
        self.offset = offset
        self.byteCount = byteCount
    }

    /// A zeroed secret of `byteCount` bytes in an allocation of its own.
    private init(zeroedByteCount byteCount: Int) {
        self.init(storage: SecretStorage(byteCount: byteCount), offset: 0, byteCount: byteCount)
    }

    /// This secret's bytes inside its storage (written only while the secret is made; immutable afterwards).
    private var region: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: storage.pointer[offset..<offset + byteCount])
    }

    /// One secret per piece, copied into a single zeroised allocation that they share (many small secrets, such
    /// as the shares of one message, then cost one allocation instead of one each).
    package static func packed(_ pieces: [ArraySlice<UInt8>]) -> [SecretBytes] {
        let storage = SecretStorage(byteCount: pieces.reduce(0) { $0 + $1.count })
        var offset = 0
        return pieces.map { piece in
            let secret = SecretBytes(storage: storage, offset: offset, byteCount: piece.count)
            secret.region.copyBytes(from: piece)
            offset += piece.count
            return secret
        }
    }

    /// Creates a secret of `byteCount` bytes filled in place by `initializer`, so the value never lives
    /// in an ordinary, unzeroised buffer.
    public init<E: Error>(
        byteCount: Int, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        self.init(zeroedByteCount: byteCount)
        try initializer(region)
    }

    /// Copies `bytes` into secret storage. The caller remains responsible for its own copy.
    public init(copying bytes: some Collection<UInt8>) {
        self.init(zeroedByteCount: bytes.count)
        region.copyBytes(from: bytes)
    }

    /// `byteCount` bytes from `rng`.
    public init(randomByteCount byteCount: Int, using rng: inout some RandomByteGenerator) {
        self.init(zeroedByteCount: byteCount)
        rng.fill(region)
    }

    /// `byteCount` bytes from the system CSPRNG.
    public init(randomByteCount byteCount: Int) {
        var rng = SystemRandomGenerator()
        self.init(randomByteCount: byteCount, using: &rng)
    }

    /// Read-only access to the secret bytes. Do not let the pointer escape.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(region))
    }

    /// Copies the secret out into an ordinary array. Use only where the bytes must leave secret storage
    /// (serialisation into an encrypted message, test vectors); the caller must treat the copy as secret.
    public func unsafeExportedBytes() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }
}

extension SecretBytes: Equatable {
    /// Constant-time comparison of contents (lengths are public).
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        guard lhs.byteCount == rhs.byteCount else { return false }
        if lhs.byteCount == 0 { return true }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in CSodiumShims_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }
}

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never shows the contents.
    public var description: String { "SecretBytes(\(byteCount) bytes, redacted)" }
    /// Never shows the contents.
    public var debugDescription: String { description }
}

/// Constant-time helpers for comparing public-length byte strings that may hold secret values.
public enum ConstantTime {
    /// True when the two byte strings are equal; runs in time that depends only on their lengths.
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }
}

/// Zeroises an ordinary buffer that held secret data.
public func secureZero<T>(_ array: inout [T]) where T: FixedWidthInteger {
    array.withUnsafeMutableBytes { CSodiumShims_memzero($0.baseAddress, $0.count) }
}

extension UnsafeRawBufferPointer {
    /// The base address as a byte pointer, for libsodium calls whose headers declare non-null pointers.
    /// Only used on non-empty buffers (keys, nonces, outputs of fixed size).
    var bytePointer: UnsafePointer<UInt8> {
        baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self)
    }
}

extension UnsafeMutableRawBufferPointer {
    /// The base address as a byte pointer; only used on non-empty buffers.
    var bytePointer: UnsafeMutablePointer<UInt8> {
        baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self)
    }
}
