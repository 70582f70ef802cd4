public import SecAggCrypto

/// The two Merkle trees of a session (SPEC.md §11.2): the key tree, over every advertisement of round 0, whose root
/// enters the session id; and, on sparse graphs, the reveal tree, over every graph-seed contribution of round 0′,
/// whose root enters the graph seed. Both have one slot per client index (slot i − 1 for client i), so a proof for a
/// slot shows either the client's entry or that it has none.
public enum SessionTrees {
    /// The key tree's leaf payload for client `index`: 0x01 ‖ entry (the KeysBroadcast entry encoding, which starts
    /// with LE32(index)) when it advertised, 0x00 ‖ LE32(index) when not.
    public static func keyLeafHash(index: UInt32, entry: [UInt8]?) -> [UInt8] {
        guard let entry else { return absentLeafHash(index: index) }
        return MerkleTree.leafHash([0x01] + entry)
    }

    /// The reveal tree's leaf payload for client `index`: 0x01 ‖ LE32(index) ‖ r_index when it revealed,
    /// 0x00 ‖ LE32(index) when it has no entry.
    public static func revealLeafHash(index: UInt32, contribution: [UInt8]?) -> [UInt8] {
        guard let contribution else { return absentLeafHash(index: index) }
        var payload: [UInt8] = [0x01]
        appendLittleEndian(index, to: &payload)
        return MerkleTree.leafHash(payload + contribution)
    }

    /// The leaf of a client without an entry: LeafHash(0x00 ‖ LE32(index)).
    public static func absentLeafHash(index: UInt32) -> [UInt8] {
        var payload: [UInt8] = [0x00]
        appendLittleEndian(index, to: &payload)
        return MerkleTree.leafHash(payload)
    }

    /// sessionId = SHA-256("secagg/v3/session-id" ‖ configDigest ‖ LE32(count) ‖ keyRoot).
    public static func sessionId(configurationDigest: [UInt8], count: Int, keyRoot: [UInt8]) -> [UInt8] {
        var h = Sha256Hasher()
        h.update(Array("secagg/v3/session-id".utf8))
        h.update(configurationDigest)
        var countBytes: [UInt8] = []
        appendLittleEndian(UInt32(truncatingIfNeeded: count), to: &countBytes)
        h.update(countBytes)
        h.update(keyRoot)
        return h.finalize()
    }

    /// graphSeed = SHA-256("secagg/v3/graph-seed" ‖ sessionId ‖ revealRoot).
    public static func graphSeed(sessionId: [UInt8], revealRoot: [UInt8]) -> [UInt8] {
        var h = Sha256Hasher()
        h.update(Array("secagg/v3/graph-seed".utf8))
        h.update(sessionId)
        h.update(revealRoot)
        return h.finalize()
    }

    /// The key tree over clients 1…n: `entries[i]` is client i's encoded entry (absent clients have none).
    static func keyTree(clientCount n: Int, entries: [UInt32: [UInt8]]) throws(SecAggError) -> MerkleTree {
        var leaves: [UInt8] = []
        leaves.reserveCapacity(n * MerkleTree.digestByteCount)
        for i in 1...n {
            leaves += keyLeafHash(index: UInt32(i), entry: entries[UInt32(i)])
        }
        do {
            return try MerkleTree(leafHashes: leaves, slotCount: n)
        } catch {
            throw .crypto(error)
        }
    }

    /// The reveal tree over clients 1…n.
    static func revealTree(clientCount n: Int, contributions: [UInt32: [UInt8]]) throws(SecAggError) -> MerkleTree {
        var leaves: [UInt8] = []
        leaves.reserveCapacity(n * MerkleTree.digestByteCount)
        for i in 1...n {
            leaves += revealLeafHash(index: UInt32(i), contribution: contributions[UInt32(i)])
        }
        do {
            return try MerkleTree(leafHashes: leaves, slotCount: n)
        } catch {
            throw .crypto(error)
        }
    }

    /// True when `proof` shows `leafHash` at client `index`'s slot under `root`.
    static func verify(root: [UInt8], leafHash: [UInt8], index: UInt32, clientCount: Int, proof: [UInt8]) -> Bool {
        MerkleTree.verify(root: root, leafHash: leafHash, slot: Int(index) - 1, slotCount: clientCount, proof: proof)
    }
}

/// What the server tells a client about one of its neighbours on a sparse graph (SPEC.md §11.2, tag 0x86): the
/// neighbour's advertisement and revealed contribution (or that it has none), with their proofs in the key tree and
/// the reveal tree.
public struct NeighbourRecord: Sendable, Hashable {
    /// The neighbour.
    public var index: UInt32
    /// Its advertisement; nil when it did not advertise keys (not in U1).
    public var keys: AdvertisedKeys?
    /// Its graph-seed contribution r_v (32 bytes); empty when `keys` is nil.
    public var contribution: [UInt8]
    /// The proof of its key-tree leaf (present or absent), L · 32 bytes.
    public var keyProof: [UInt8]
    /// The proof of its reveal-tree leaf (present or absent), L · 32 bytes.
    public var revealProof: [UInt8]

    /// Creates a record.
    public init(index: UInt32, keys: AdvertisedKeys?, contribution: [UInt8], keyProof: [UInt8], revealProof: [UInt8]) {
        self.index = index
        self.keys = keys
        self.contribution = contribution
        self.keyProof = keyProof
        self.revealProof = revealProof
    }
}

extension AdvertisedKeys {
    /// The entry encoding of the key broadcast and the key tree: LE32(index) ‖ c^PK ‖ s^PK [‖ commitment]
    /// [‖ signature] (the optional fields as the configuration says, SPEC.md §12.4).
    public func entryBytes(signed: Bool, committed: Bool) -> [UInt8] {
        var w = ByteWriter(capacity: KeyBroadcast.entryByteCount(signed: signed, committed: committed))
        w.write(index)
        w.write(raw: encryptionKey.rawRepresentation)
        w.write(raw: maskingKey.rawRepresentation)
        if committed { w.write(raw: seedCommitment) }
        if signed { w.write(raw: signature) }
        return w.bytes
    }
}
