internal import CSodium

/// libsodium's one-time initialisation.
///
/// `sodium_init()` selects the fastest implementation of each primitive for this CPU, so it must run
/// before any other libsodium call. A Swift global is initialised exactly once, thread-safely, on first
/// use; the call is a plain statement, never inside `assert`/`precondition` (which `-Ounchecked` removes).
enum Sodium {
    private static let initializationResult: Int32 = sodium_init()

    /// Initialises libsodium if needed; throws when the library cannot be initialised.
    static func ensureInitialized() throws(SecAggCryptoError) {
        if initializationResult < 0 {
            throw .sodiumInitializationFailed
        }
    }

    /// Initialises libsodium if needed, for call sites that cannot throw (they fall back to reporting
    /// failure through their own error path on the first libsodium return code).
    @discardableResult
    static func initialize() -> Bool {
        initializationResult >= 0
    }
}

/// Public entry point so tools can fail early with a clear message.
public enum SodiumRuntime {
    /// Runs `sodium_init()` once (thread-safe) and reports whether libsodium is usable.
    public static func initialize() throws(SecAggCryptoError) {
        try Sodium.ensureInitialized()
    }

    /// The libsodium version string this process is linked against.
    public static var versionString: String {
        String(cString: sodium_version_string())
    }
}
