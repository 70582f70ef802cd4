internal import CSodium
internal import CSodiumShims

/// A binary Merkle tree over SHA-256 with domain-separated leaves and nodes (SPEC.md §2.7).
///
/// The tree has n slots (1 ≤ n ≤ 2^24) holding caller-computed leaf hashes ℓ_0 … ℓ_{n−1}
/// (``leafHash(_:)``: SHA-256(0x00 ‖ payload)). With depth L = ⌈log2 n⌉, slots n … 2^L − 1 are padding whose leaf
/// value is 32 zero bytes; an inner node is ``nodeHash(_:_:)``: SHA-256(0x01 ‖ left ‖ right). The proof of a slot is
/// its L siblings from the leaf level up, concatenated (L · 32 bytes).
///
/// Storage is flat: level j keeps only its ⌈n / 2^j⌉ nodes that cover at least one real slot (about 2 · n · 32 bytes
/// in all); a node covering only padding has a value that depends on its level alone, kept once per level.
public struct MerkleTree: Sendable {
    /// The size of a leaf hash, a node and the root: SHA-256.
    public static let digestByteCount = 32
    /// The largest slot count: 2^24.
    public static let maximumSlotCount = 1 << 24

    /// The number of slots n.
    public let slotCount: Int
    /// The depth L = ⌈log2 n⌉ (0 for one slot): the number of hashes in a proof.
    public let depth: Int
    /// Every level's real nodes, level 0 (the n leaf hashes) first, then level 1, …, level L (the root).
    private let nodes: [UInt8]
    /// The node index where each level starts in ``nodes`` (in digests), L + 1 entries.
    private let levelStarts: [Int]
    /// The value of a node of level j covering only padding slots: Z_0 = 0^32, Z_{j+1} = Node(Z_j, Z_j); L entries
    /// flat.
    private let paddingNodes: [UInt8]

    /// ⌈log2 slotCount⌉, and 0 for slotCount ≤ 1.
    public static func depth(slotCount: Int) -> Int {
        slotCount <= 1 ? 0 : Int.bitWidth - (slotCount - 1).leadingZeroBitCount
    }

    /// LeafHash(payload) = SHA-256(0x00 ‖ payload): the leaf hash of a slot holding `payload`.
    public static func leafHash(_ payload: some Collection<UInt8>) -> [UInt8] {
        Sodium.initialize()
        var hasher = PrefixedHasher(prefix: 0x00)
        if payload.withContiguousStorageIfAvailable({ hasher.update(UnsafeRawBufferPointer($0)) }) == nil {
            Array(payload).withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalize()
    }

    /// LeafHash(pieces[0] ‖ pieces[1] ‖ …) without concatenating the pieces.
    public static func leafHash(concatenating pieces: [UInt8]...) -> [UInt8] {
        Sodium.initialize()
        var hasher = PrefixedHasher(prefix: 0x00)
        for piece in pieces { piece.withUnsafeBytes { hasher.update($0) } }
        return hasher.finalize()
    }

    /// Node(left, right) = SHA-256(0x01 ‖ left ‖ right), for two 32-byte children.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        Sodium.initialize()
        var hasher = PrefixedHasher(prefix: 0x01)
        left.withUnsafeBytes { hasher.update($0) }
        right.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// Builds the tree over `slotCount` slots from their leaf hashes, concatenated (slotCount · 32 bytes).
    ///
    /// Throws ``SecAggCryptoError/merkleSlotCountOutOfRange(slotCount:maximum:)`` unless
    /// 1 ≤ slotCount ≤ ``maximumSlotCount``, then ``SecAggCryptoError/incorrectByteCount(actual:expected:)`` unless
    /// `leafHashes` holds exactly slotCount · 32 bytes.
    public init(leafHashes: [UInt8], slotCount: Int) throws(SecAggCryptoError) {
        guard slotCount >= 1, slotCount <= Self.maximumSlotCount else {
            throw .merkleSlotCountOutOfRange(slotCount: slotCount, maximum: Self.maximumSlotCount)
        }
        let size = Self.digestByteCount
        guard leafHashes.count == slotCount * size else {
            throw .incorrectByteCount(actual: leafHashes.count, expected: slotCount * size)
        }
        try Sodium.ensureInitialized()
        let depth = Self.depth(slotCount: slotCount)
        var starts: [Int] = [0]
        var count = slotCount
        for _ in 0..<depth {
            starts.append(starts[starts.count - 1] + count)
            count = (count + 1) / 2
        }
        let totalNodes = starts[depth] + 1

        // Z_0 … Z_{L−1}: the padding node of each level below the root.
        var padding = [UInt8](repeating: 0, count: depth * size)
        padding.withUnsafeMutableBytes { z in
            for j in 1..<max(depth, 1) {
                let child = UnsafeRawBufferPointer(rebasing: z[(j - 1) * size..<j * size])
                Self.node(
                    left: child, right: child,
                    into: UnsafeMutableRawBufferPointer(rebasing: z[j * size..<(j + 1) * size]))
            }
        }

        let nodes = [UInt8](unsafeUninitializedCapacity: totalNodes * size) { buffer, initialized in
            let out = UnsafeMutableRawBufferPointer(buffer)
            leafHashes.withUnsafeBytes { out.copyMemory(from: $0) }
            padding.withUnsafeBytes { z in
                var count = slotCount
                for j in 0..<depth {
                    let below = starts[j] * size
                    let above = starts[j + 1] * size
                    let parents = (count + 1) / 2
                    for s in 0..<parents {
                        let left = below + 2 * s * size
                        let target = UnsafeMutableRawBufferPointer(
                            rebasing: out[above + s * size..<above + (s + 1) * size])
                        if 2 * s + 1 < count {
                            // Both children are real and adjacent: hash the 64 bytes at once.
                            Self.node(
                                children: UnsafeRawBufferPointer(rebasing: out[left..<left + 2 * size]), into: target)
                        } else {
                            Self.node(
                                left: UnsafeRawBufferPointer(rebasing: out[left..<left + size]),
                                right: UnsafeRawBufferPointer(rebasing: z[j * size..<(j + 1) * size]), into: target)
                        }
                    }
                    count = parents
                }
            }
            initialized = totalNodes * size
        }
        self.slotCount = slotCount
        self.depth = depth
        self.nodes = nodes
        levelStarts = starts
        paddingNodes = padding
    }

    /// The root: level L's only node (the leaf hash itself for one slot).
    public var root: [UInt8] {
        let start = levelStarts[depth] * Self.digestByteCount
        return Array(nodes[start..<start + Self.digestByteCount])
    }

    /// The proof of `slot` (0 ≤ slot < slotCount): sib_j = level_j[(slot >> j) XOR 1] for j = 0 … L − 1,
    /// concatenated (L · 32 bytes). Traps on a slot outside the tree.
    public func proof(slot: Int) -> [UInt8] {
        precondition(slot >= 0 && slot < slotCount, "Merkle slot \(slot) outside 0..<\(slotCount)")
        var out: [UInt8] = []
        out.reserveCapacity(depth * Self.digestByteCount)
        var count = slotCount
        for j in 0..<depth {
            out.append(contentsOf: node(level: j, index: (slot >> j) ^ 1, levelCount: count))
            count = (count + 1) / 2
        }
        return out
    }

    /// The root that `proof` leads to from `leafHash` at `slot` of a tree of `slotCount` slots, or nil when the slot
    /// is outside 0 ..< slotCount, slotCount is outside 1 … ``maximumSlotCount``, or the leaf hash is not 32 bytes
    /// or the proof not exactly ``depth(slotCount:)`` · 32 bytes.
    public static func root(leafHash: [UInt8], slot: Int, slotCount: Int, proof: [UInt8]) -> [UInt8]? {
        guard slotCount >= 1, slotCount <= maximumSlotCount, slot >= 0, slot < slotCount,
            leafHash.count == digestByteCount, proof.count == depth(slotCount: slotCount) * digestByteCount
        else { return nil }
        Sodium.initialize()
        let size = digestByteCount
        var h = leafHash
        proof.withUnsafeBytes { siblings in
            h.withUnsafeMutableBytes { current in
                for j in 0..<depth(slotCount: slotCount) {
                    let sibling = UnsafeRawBufferPointer(rebasing: siblings[j * size..<(j + 1) * size])
                    let value = UnsafeRawBufferPointer(current)
                    // Node writes only after reading both children, so the output may alias `current`.
                    if (slot >> j) & 1 == 0 {
                        node(left: value, right: sibling, into: current)
                    } else {
                        node(left: sibling, right: value, into: current)
                    }
                }
            }
        }
        return h
    }

    /// True iff `proof` leads from `leafHash` at `slot` to `root` (compared in constant time); false for a slot
    /// outside the tree or a proof or digest of the wrong length.
    public static func verify(root: [UInt8], leafHash: [UInt8], slot: Int, slotCount: Int, proof: [UInt8]) -> Bool {
        guard root.count == digestByteCount,
            let computed = Self.root(leafHash: leafHash, slot: slot, slotCount: slotCount, proof: proof)
        else { return false }
        return computed.withUnsafeBytes { a in
            root.withUnsafeBytes { b in CSodiumShims_memcmp(a.baseAddress, b.baseAddress, digestByteCount) == 0 }
        }
    }

    /// The leaf hashes of `slots` (each 0 ≤ slot < slotCount), concatenated in the order given. Traps on a slot
    /// outside the tree.
    public func leafHashes(at slots: some Sequence<Int>) -> [UInt8] {
        let size = Self.digestByteCount
        var out: [UInt8] = []
        out.reserveCapacity(slots.underestimatedCount * size)
        for slot in slots {
            precondition(slot >= 0 && slot < slotCount, "Merkle slot \(slot) outside 0..<\(slotCount)")
            out.append(contentsOf: nodes[slot * size..<(slot + 1) * size])
        }
        return out
    }

    /// The node `index` of level `level` (real or padding).
    private func node(level: Int, index: Int, levelCount: Int) -> ArraySlice<UInt8> {
        let size = Self.digestByteCount
        if index < levelCount {
            let start = (levelStarts[level] + index) * size
            return nodes[start..<start + size]
        }
        return paddingNodes[level * size..<(level + 1) * size]
    }

    /// The multiproof of `slots` (SPEC.md §2.7): level by level from the leaves up, the sibling of every node on a
    /// path from a slot of the set whose sibling is not itself on such a path, in ascending order; h · 32 bytes.
    /// For one slot it is ``proof(slot:)``. Traps unless `slots` is nonempty, strictly ascending and inside the tree.
    public func multiproof(slots: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        forEachMultiproofValue(slots: slots) { level, index, levelCount in
            out.append(contentsOf: node(level: level, index: index, levelCount: levelCount))
        }
        return out
    }

    /// The number of 32-byte values in ``multiproof(slots:)``, without copying them. Same traps.
    public func multiproofValueCount(slots: [Int]) -> Int {
        var count = 0
        forEachMultiproofValue(slots: slots) { _, _, _ in count += 1 }
        return count
    }

    /// Calls `body(level, index, levelCount)` for each node of the multiproof of `slots`, in multiproof order.
    private func forEachMultiproofValue(slots: [Int], _ body: (Int, Int, Int) -> Void) {
        precondition(
            (slots.first ?? -1) >= 0 && (slots.last ?? slotCount) < slotCount
                && zip(slots, slots.dropFirst()).allSatisfy(<),
            "Merkle multiproof slots must be nonempty, ascending and inside 0..<\(slotCount)")
        var known = slots
        var count = slotCount
        for j in 0..<depth {
            var i = 0
            while i < known.count {
                let s = known[i]
                if s & 1 == 0, i + 1 < known.count, known[i + 1] == s + 1 {
                    i += 2
                    continue
                }
                body(j, s ^ 1, count)
                i += 1
            }
            known = Self.parents(of: known)
            count = (count + 1) / 2
        }
    }

    /// The ascending, distinct parents of an ascending slot list.
    private static func parents(of slots: [Int]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(slots.count)
        for s in slots where result.last != s >> 1 { result.append(s >> 1) }
        return result
    }

    /// The root that `multiproof` leads to from the leaf hashes of `slots` (concatenated, in the same order) in a tree
    /// of `slotCount` slots (SPEC.md §2.7), or nil when slotCount is outside 1 … ``maximumSlotCount``, `slots` is
    /// empty, not strictly ascending or not below slotCount, `leafHashes` is not 32 bytes per slot, or the
    /// multiproof's values do not match what the slots need exactly (too few, too many, or not a multiple of 32 bytes).
    public static func root(leafHashes: [UInt8], slots: [Int], slotCount: Int, multiproof: [UInt8]) -> [UInt8]? {
        let size = digestByteCount
        guard slotCount >= 1, slotCount <= maximumSlotCount, let first = slots.first, first >= 0,
            let last = slots.last, last < slotCount, zip(slots, slots.dropFirst()).allSatisfy(<),
            leafHashes.count == slots.count * size, multiproof.count % size == 0
        else { return nil }
        Sodium.initialize()
        var known = slots
        var hashes = leafHashes
        var used = 0
        for _ in 0..<depth(slotCount: slotCount) {
            let parentSlots = Self.parents(of: known)
            var parentHashes = [UInt8](repeating: 0, count: parentSlots.count * size)
            var parent = 0
            var i = 0
            var ok = true
            hashes.withUnsafeBytes { current in
                multiproof.withUnsafeBytes { values in
                    parentHashes.withUnsafeMutableBytes { out in
                        while i < known.count {
                            let s = known[i]
                            let target = UnsafeMutableRawBufferPointer(
                                rebasing: out[parent * size..<(parent + 1) * size])
                            let own = UnsafeRawBufferPointer(rebasing: current[i * size..<(i + 1) * size])
                            if s & 1 == 0, i + 1 < known.count, known[i + 1] == s + 1 {
                                node(
                                    children: UnsafeRawBufferPointer(rebasing: current[i * size..<(i + 2) * size]),
                                    into: target)
                                i += 2
                            } else {
                                guard (used + 1) * size <= values.count else {
                                    ok = false
                                    return
                                }
                                let sibling = UnsafeRawBufferPointer(rebasing: values[used * size..<(used + 1) * size])
                                used += 1
                                if s & 1 == 0 {
                                    node(left: own, right: sibling, into: target)
                                } else {
                                    node(left: sibling, right: own, into: target)
                                }
                                i += 1
                            }
                            parent += 1
                        }
                    }
                }
            }
            guard ok else { return nil }
            known = parentSlots
            hashes = parentHashes
        }
        guard used * size == multiproof.count else { return nil }
        return hashes
    }

    /// True iff `multiproof` leads from the leaf hashes of `slots` to `root` (compared in constant time); false for
    /// anything ``root(leafHashes:slots:slotCount:multiproof:)`` refuses.
    public static func verify(
        root: [UInt8], leafHashes: [UInt8], slots: [Int], slotCount: Int, multiproof: [UInt8]
    ) -> Bool {
        guard root.count == digestByteCount,
            let computed = Self.root(leafHashes: leafHashes, slots: slots, slotCount: slotCount, multiproof: multiproof)
        else { return false }
        return computed.withUnsafeBytes { a in
            root.withUnsafeBytes { b in CSodiumShims_memcmp(a.baseAddress, b.baseAddress, digestByteCount) == 0 }
        }
    }

    // MARK: - Hashing without allocation

    /// SHA-256(0x01 ‖ children) for 64 contiguous bytes.
    private static func node(children: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        var hasher = PrefixedHasher(prefix: 0x01)
        hasher.update(children)
        hasher.finalize(into: out)
    }

    /// SHA-256(0x01 ‖ left ‖ right); `out` may alias either child.
    private static func node(
        left: UnsafeRawBufferPointer, right: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) {
        var hasher = PrefixedHasher(prefix: 0x01)
        hasher.update(left)
        hasher.update(right)
        hasher.finalize(into: out)
    }
}

/// A libsodium SHA-256 state that has absorbed one domain byte; no heap allocation.
private struct PrefixedHasher {
    private var state = crypto_hash_sha256_state()

    /// The caller has initialised libsodium.
    init(prefix: UInt8) {
        _ = crypto_hash_sha256_init(&state)
        var byte = prefix
        _ = crypto_hash_sha256_update(&state, &byte, 1)
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        _ = crypto_hash_sha256_update(&state, bytes.bytePointer, UInt64(bytes.count))
    }

    mutating func finalize(into out: UnsafeMutableRawBufferPointer) {
        _ = crypto_hash_sha256_final(&state, out.bytePointer)
    }

    mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: MerkleTree.digestByteCount)
        out.withUnsafeMutableBytes { finalize(into: $0) }
        return out
    }
}
