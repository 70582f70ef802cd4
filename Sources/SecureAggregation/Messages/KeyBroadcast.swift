import SecAggCrypto

/// The round-0 transcript as the server broadcasts it: fixed-size entries LE32(index) || c^PK || s^PK
/// [|| seed commitment] [|| signature], strictly ascending by index (SPEC.md §12.4).
///
/// Sent only on configurations that are not sparse (every client needs every key); sparse graphs send each client
/// its neighbours' entries with Merkle proofs instead (``ServerMessage/neighbourhood(sessionId:recipient:revealRoot:proof:neighbours:)``).
/// Kept in encoded form: a client looks up entries by binary search and hashes the bytes into the key tree for the
/// session id. A decoded broadcast shares the storage of the message it came from (a slice), so clients
/// that receive the same encoded message in one process — a simulation — hold one copy, not one each.
public struct KeyBroadcast: Sendable, Equatable {
    /// Equal entry layouts and bytes.
    public static func == (lhs: KeyBroadcast, rhs: KeyBroadcast) -> Bool {
        lhs.entryByteCount == rhs.entryByteCount && lhs.committed == rhs.committed
            && lhs.storage.elementsEqual(rhs.storage)
    }

    /// Bytes per entry: 68, plus 32 with seed commitments, plus 64 with signatures.
    public let entryByteCount: Int
    /// True when entries carry a seed commitment (sparse graphs).
    public let committed: Bool
    /// The encoded entries, count × entryByteCount.
    private let storage: ArraySlice<UInt8>

    /// The encoded entries, count × entryByteCount (a copy).
    public var entryBytes: [UInt8] { Array(storage) }

    /// The number of entries.
    public var count: Int { storage.count / entryByteCount }

    /// Calls `body` with the encoded entries, without copying.
    public func withEntryBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    /// Bytes per entry for a security model and graph.
    public static func entryByteCount(signed: Bool, committed: Bool) -> Int {
        4 + 2 * X25519.keyByteCount + (committed ? SeedContribution.byteCount : 0)
            + (signed ? Ed25519.signatureByteCount : 0)
    }

    /// Encodes entries (sorted here by index).
    public init(entries: [AdvertisedKeys], signed: Bool, committed: Bool) {
        entryByteCount = Self.entryByteCount(signed: signed, committed: committed)
        self.committed = committed
        var w = ByteWriter(capacity: entries.count * entryByteCount)
        for k in entries.sorted(by: { $0.index < $1.index }) {
            w.write(raw: k.entryBytes(signed: signed, committed: committed))
        }
        storage = w.bytes[...]
    }

    /// Validates encoded entries: indices in 1...n and strictly ascending.
    init(validating bytes: ArraySlice<UInt8>, signed: Bool, committed: Bool, clientCount: Int)
        throws(WireFormatError)
    {
        let size = Self.entryByteCount(signed: signed, committed: committed)
        guard bytes.count % size == 0 else {
            throw .invalidField(field: "keys", reason: "length is not a multiple of the entry size")
        }
        var previous: UInt32 = 0
        for offset in stride(from: 0, to: bytes.count, by: size) {
            let index = Self.readIndex(bytes, at: offset)
            guard index >= 1, Int(index) <= clientCount else {
                throw .indexOutOfRange(field: "keys", index: index, clientCount: clientCount)
            }
            guard index > previous else { throw .duplicateOrUnorderedIndex(field: "keys", index: index) }
            previous = index
        }
        entryByteCount = size
        self.committed = committed
        storage = bytes
    }

    /// The LE32 at `offset` from the start of `bytes` (slices keep their parent's indices).
    private static func readIndex(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt32 {
        let i = bytes.startIndex + offset
        return UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }

    /// Bytes `range` of the entries, counted from their start.
    private func slice(_ range: Range<Int>) -> [UInt8] {
        Array(storage[(storage.startIndex + range.lowerBound)..<(storage.startIndex + range.upperBound)])
    }

    private func decode(at position: Int) -> AdvertisedKeys? {
        let offset = position * entryByteCount
        let base = offset + 4
        guard
            let c = try? X25519.PublicKey(rawRepresentation: slice(base..<(base + 32))),
            let s = try? X25519.PublicKey(rawRepresentation: slice((base + 32)..<(base + 64)))
        else { return nil }
        let commitmentEnd = base + 64 + (committed ? SeedContribution.byteCount : 0)
        let commitment = committed ? slice((base + 64)..<commitmentEnd) : []
        let signature = slice(commitmentEnd..<(offset + entryByteCount))
        return AdvertisedKeys(
            index: Self.readIndex(storage, at: offset), encryptionKey: c, maskingKey: s, seedCommitment: commitment,
            signature: signature)
    }

    /// The entry of client `index`, if it advertised keys (binary search).
    public func entry(for index: UInt32) -> AdvertisedKeys? {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            let value = Self.readIndex(storage, at: mid * entryByteCount)
            if value == index { return decode(at: mid) }
            if value < index { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// The index of the first contribution that does not belong to the entry at its position or does not open
    /// that entry's seed commitment (SPEC.md §11.2), or nil when they all do and cover every entry in order.
    /// Works on the encoded entries (one SHA-256 per entry, the common prefix hashed once), since a client checks
    /// all n of them.
    public func firstUnopenedCommitment(_ contributions: [SeedContribution], configurationDigest: [UInt8])
        -> UInt32?
    {
        guard committed, contributions.count == count else { return contributions.first?.index ?? 0 }
        var prefix = Sha256Hasher()
        prefix.update(SeedContribution.commitmentBlock(configurationDigest: configurationDigest))
        var digest = [UInt8](repeating: 0, count: 32)
        return storage.withUnsafeBytes { raw -> UInt32? in
            digest.withUnsafeMutableBytes { out -> UInt32? in
                for (position, entry) in contributions.enumerated() {
                    let offset = position * entryByteCount
                    guard Self.readIndex(storage, at: offset) == entry.index,
                        entry.contribution.count == SeedContribution.byteCount
                    else { return entry.index }
                    var hasher = prefix
                    withUnsafeBytes(of: entry.index.littleEndian) { hasher.update($0) }
                    entry.contribution.withUnsafeBytes { hasher.update($0) }
                    hasher.finalize(into: out)
                    let commitment = UnsafeRawBufferPointer(rebasing: raw[(offset + 68)..<(offset + 100)])
                    guard commitment.elementsEqual(UnsafeRawBufferPointer(out)) else { return entry.index }
                }
                return nil
            }
        }
    }

    /// Every entry, decoded.
    public var entries: [AdvertisedKeys] { (0..<count).compactMap { decode(at: $0) } }

    /// Every advertised index, ascending.
    public var indices: [UInt32] {
        stride(from: 0, to: storage.count, by: entryByteCount).map { Self.readIndex(storage, at: $0) }
    }

    /// The session id (SPEC.md §11.2): SHA-256("secagg/v3/session-id" ‖ configDigest ‖ LE32(count) ‖ keyRoot),
    /// keyRoot the root of the key tree over clients 1…n (``SessionTrees``), built here from the entries.
    public func sessionId(configurationDigest: [UInt8], clientCount: Int) throws(SecAggError) -> [UInt8] {
        var leaves: [UInt8] = []
        leaves.reserveCapacity(clientCount * MerkleTree.digestByteCount)
        var position = 0
        let total = count
        for i in 1...max(1, clientCount) {
            let index = UInt32(i)
            if position < total, Self.readIndex(storage, at: position * entryByteCount) == index {
                leaves += SessionTrees.keyLeafHash(index: index, entry: slice(
                    (position * entryByteCount)..<((position + 1) * entryByteCount)))
                position += 1
            } else {
                leaves += SessionTrees.absentLeafHash(index: index)
            }
        }
        let tree: MerkleTree
        do {
            tree = try MerkleTree(leafHashes: leaves, slotCount: clientCount)
        } catch {
            throw .crypto(error)
        }
        return SessionTrees.sessionId(configurationDigest: configurationDigest, count: total, keyRoot: tree.root)
    }
}
