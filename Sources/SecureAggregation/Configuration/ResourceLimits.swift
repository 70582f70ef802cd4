import SecAggCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Memory a party may commit to for one session (SPEC.md §11.8). The server and the client check their
/// estimate for a configuration against it before allocating anything, so a small configuration cannot make
/// either allocate gigabytes (one 2^31-element vector alone is 17 GB of sums).
public struct ResourceLimits: Hashable, Sendable, CustomStringConvertible {
    /// The most bytes the party may hold for the session at any time.
    public var maximumMemoryBytes: Int

    /// A limit of `maximumMemoryBytes` bytes.
    public init(maximumMemoryBytes: Int) {
        self.maximumMemoryBytes = maximumMemoryBytes
    }

    /// Half of this machine's physical memory (8 GiB when it cannot be read): sensible for a server that
    /// shares the machine with its transport and the operating system.
    public static var `default`: ResourceLimits {
        ResourceLimits(maximumMemoryBytes: max(1 << 30, SystemInfo.physicalMemoryBytes / 2))
    }

    /// No limit (tests and tools that size things themselves).
    public static let unlimited = ResourceLimits(maximumMemoryBytes: .max)

    /// "limit 12.0 GB".
    public var description: String {
        maximumMemoryBytes == .max ? "no memory limit" : "memory limit \(maximumMemoryBytes) bytes"
    }
}

extension SystemInfo {
    /// The machine's physical memory in bytes (8 GiB when unknown).
    public static var physicalMemoryBytes: Int {
        #if canImport(Glibc) || canImport(Darwin)
            let pages = sysconf(Int32(_SC_PHYS_PAGES))
            let size = sysconf(Int32(_SC_PAGESIZE))
            if pages > 0, size > 0 {
                let (bytes, overflow) = Int(pages).multipliedReportingOverflow(by: Int(size))
                return overflow ? .max : bytes
            }
        #endif
        return 8 << 30
    }
}

extension SessionConfiguration {
    /// Bytes of one set of vectors: Σ m_i × 8 (elements are held as UInt64).
    var vectorBytes: Int {
        inputs.reduce(0) { total, spec in Saturating.add(total, Saturating.multiply(spec.length, 8)) }
    }

    /// An upper estimate of the bytes the server holds at once with `unmaskingWorkers` threads (SPEC.md
    /// §11.8): the running sums, one masked input being decoded (its bytes and its elements), one accumulator
    /// per extra unmasking worker, and per client and per edge its keys, commitments, forwarded ciphertexts
    /// and revealed shares.
    public func serverMemoryEstimate(unmaskingWorkers: Int) -> Int {
        let vectors = Saturating.multiply(vectorBytes, 2 + max(1, unmaskingWorkers))
        let edges = Saturating.multiply(Saturating.multiply(clientCount, degree), Self.serverBytesPerEdge)
        let clients = Saturating.multiply(clientCount, Self.serverBytesPerClient)
        return Saturating.add(Saturating.add(vectors, edges), clients)
    }

    /// An upper estimate of the bytes a client holds at once (SPEC.md §11.8): its input and the masked copy,
    /// the key broadcast with every advertisement (or, on a sparse graph in the semi-honest model, the largest
    /// Neighbourhood, 110 + 160L + 101k bytes: O(k + log n), nothing O(n)), and per neighbour its keys, shares and
    /// ciphertexts.
    public var clientMemoryEstimate: Int {
        let vectors = Saturating.multiply(vectorBytes, 2)
        let broadcast =
            isSparse && securityModel == .semiHonest
            ? 110 + 160 * MerkleTree.depth(slotCount: clientCount) + Saturating.multiply(degree, 101)
            : Saturating.multiply(clientCount, Self.clientBytesPerClient)
        let neighbours = Saturating.multiply(degree, Self.clientBytesPerNeighbour)
        return Saturating.add(Saturating.add(vectors, broadcast), neighbours)
    }

    /// Per (client, neighbour) on the server: a forwarded ciphertext with its index (132 bytes) and one
    /// revealed share (44 bytes), with allocation overhead.
    static let serverBytesPerEdge = 384
    /// Per client on the server: its advertisement, commitments, live-set bits and graph entry.
    static let serverBytesPerClient = 1024
    /// Per client in a client's key broadcast and seed reveals (decoded entries included).
    static let clientBytesPerClient = 512
    /// Per neighbour on a client: keys, share pairs, derived keys and ciphertexts.
    static let clientBytesPerNeighbour = 1024

    /// Throws ``SecAggError/resourceLimitExceeded(resource:required:limit:)`` unless `bytes` ≤ the limit.
    func check(_ bytes: Int, against limits: ResourceLimits, resource: String) throws(SecAggError) {
        guard bytes <= limits.maximumMemoryBytes else {
            throw .resourceLimitExceeded(resource: resource, required: bytes, limit: limits.maximumMemoryBytes)
        }
    }
}

/// Integer arithmetic that saturates at Int.max instead of trapping (sizes from untrusted configurations).
enum Saturating {
    static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func multiply(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }
}
