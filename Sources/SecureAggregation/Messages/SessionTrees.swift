import SecAggCrypto
import SecAggGraph

/// The Merkle trees of a session (SPEC.md §11.2): the key tree, over every advertisement of round 0, whose root
/// enters the session id; and, on sparse graphs, the reveal tree, over every graph-seed contribution of round 0′,
/// whose root enters the graph seed. Both have one slot per client index (slot i − 1 for client i), so a proof for a
/// slot shows either the client's entry or that it has none. In the semi-honest model a third, the ring tree, holds
/// the key tree's leaves in ring order, so that a client's neighbours are consecutive slots shown by one multiproof.
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

    /// The ring tree (semi-honest sparse sessions): the key tree's leaves in ring order, slot p holding the leaf of
    /// the client at ring position p.
    static func ringTree(keyTree: MerkleTree, graph: HararyGraph) throws(SecAggError) -> MerkleTree {
        var keySlots: [Int] = []
        keySlots.reserveCapacity(keyTree.slotCount)
        for p in 0..<keyTree.slotCount {
            guard let client = graph.client(atPosition: p) else {
                throw .invalidConfiguration(reason: "ring position \(p) holds no client")
            }
            keySlots.append(Int(client) - 1)
        }
        let leaves = keyTree.leafHashes(at: keySlots)
        let n = keyTree.slotCount
        do {
            return try MerkleTree(leafHashes: leaves, slotCount: n)
        } catch {
            throw .crypto(error)
        }
    }

    /// The ring-tree slots of `client`'s window W(u) (positions p − k/2 … p + k/2 mod n) with the client at each,
    /// ascending by slot: the order of the window's multiproof. Empty for a client outside the graph.
    static func window(of client: UInt32, in graph: HararyGraph) -> [(slot: Int, client: UInt32)] {
        guard let (position, clients) = graph.window(of: client) else { return [] }
        let (n, half) = (graph.clientCount, clients.count / 2)
        return clients.enumerated()
            .map { (offset, client) in (slot: ((position + offset - half) % n + n) % n, client: client) }
            .sorted { $0.slot < $1.slot }
    }

    /// True when `proof` shows `leafHash` at client `index`'s slot under `root`.
    static func verify(root: [UInt8], leafHash: [UInt8], index: UInt32, clientCount: Int, proof: [UInt8]) -> Bool {
        MerkleTree.verify(root: root, leafHash: leafHash, slot: Int(index) - 1, slotCount: clientCount, proof: proof)
    }
}

/// What the server tells a client about one of its neighbours on a sparse graph (SPEC.md §11.2, tag 0x86): the
/// neighbour's advertisement, or that it has none. The records of a Neighbourhood are shown together by one
/// multiproof in the ring tree.
public struct NeighbourRecord: Sendable, Hashable {
    /// The neighbour.
    public var index: UInt32
    /// Its advertisement; nil when it did not advertise keys (not in U1).
    public var keys: AdvertisedKeys?

    /// Creates a record.
    public init(index: UInt32, keys: AdvertisedKeys?) {
        self.index = index
        self.keys = keys
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
