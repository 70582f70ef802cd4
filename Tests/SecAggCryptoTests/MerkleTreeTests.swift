import SecAggCrypto
import Testing

/// SHA-256(bytes) through the module's plain hash, for the straight-line references below.
private func sha(_ bytes: [UInt8]) -> [UInt8] { Hkdf.sha256(bytes) }
private func leaf(_ payload: [UInt8]) -> [UInt8] { sha([0x00] + payload) }
private func node(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] { sha([0x01] + a + b) }
private let zero = [UInt8](repeating: 0, count: 32)

/// n distinct leaf hashes, LeafHash("slot " + i), and their concatenation.
private func leaves(_ n: Int, tag: String = "slot") -> [[UInt8]] {
    (0..<n).map { leaf(Array("\(tag) \($0)".utf8)) }
}

private func tree(_ leaves: [[UInt8]]) throws -> MerkleTree {
    try MerkleTree(leafHashes: leaves.flatMap { $0 }, slotCount: leaves.count)
}

@Suite struct MerkleTreeTests {
    @Test("depth is ⌈log2 n⌉")
    func depth() {
        let expected = [
            (1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4), (100, 7), (1 << 20, 20),
            ((1 << 20) + 1, 21), (1 << 24, 24),
        ]
        for (n, depth) in expected { #expect(MerkleTree.depth(slotCount: n) == depth, "n = \(n)") }
    }

    @Test("leaf and node hashes carry the 0x00 / 0x01 prefixes; pieces hash like their concatenation")
    func hashes() {
        let payload = Array("payload".utf8)
        #expect(MerkleTree.leafHash(payload) == leaf(payload))
        #expect(MerkleTree.leafHash(payload[1...]) == leaf(Array(payload[1...])))
        #expect(MerkleTree.leafHash([UInt8]()) == leaf([]))
        #expect(MerkleTree.leafHash(concatenating: [1, 2], [], [3]) == leaf([1, 2, 3]))
        #expect(MerkleTree.leafHash(concatenating: []) == leaf([]))
        let a = leaf([1]), b = leaf([2])
        #expect(MerkleTree.nodeHash(a, b) == node(a, b))
        #expect(MerkleTree.nodeHash(a, b) != MerkleTree.nodeHash(b, a))
        // Domain separation: a leaf whose payload is two hashes is not the node of those hashes.
        #expect(MerkleTree.leafHash(a + b) != MerkleTree.nodeHash(a, b))
    }

    @Test("known small trees (n = 1, 2, 3, 5, 8) match straight-line hashing")
    func knownTrees() throws {
        let l = leaves(8)
        // n = 1: the root is the leaf, the proof empty.
        let t1 = try tree([l[0]])
        #expect(t1.depth == 0 && t1.root == l[0] && t1.proof(slot: 0).isEmpty)
        // n = 2.
        let t2 = try tree(Array(l[0..<2]))
        #expect(t2.root == node(l[0], l[1]))
        #expect(t2.proof(slot: 0) == l[1] && t2.proof(slot: 1) == l[0])
        // n = 3: slot 3 is a zero padding leaf.
        let t3 = try tree(Array(l[0..<3]))
        let n01 = node(l[0], l[1]), n23pad = node(l[2], zero)
        #expect(t3.root == node(n01, n23pad))
        #expect(t3.proof(slot: 0) == l[1] + n23pad)
        #expect(t3.proof(slot: 2) == zero + n01)
        // n = 5: depth 3, slots 5, 6, 7 padding.
        let t5 = try tree(Array(l[0..<5]))
        let n23 = node(l[2], l[3]), n45 = node(l[4], zero), n67 = node(zero, zero)
        let n0123 = node(n01, n23), n4567 = node(n45, n67)
        #expect(t5.depth == 3 && t5.root == node(n0123, n4567))
        #expect(t5.proof(slot: 4) == zero + n67 + n0123)
        #expect(t5.proof(slot: 3) == l[2] + n01 + n4567)
        // n = 8: full.
        let t8 = try tree(l)
        let m45 = node(l[4], l[5]), m67 = node(l[6], l[7]), m4567 = node(m45, m67)
        #expect(t8.root == node(n0123, m4567))
        #expect(t8.proof(slot: 6) == l[7] + m45 + n0123)
        #expect(t8.proof(slot: 1) == l[0] + n23 + m4567)
    }

    @Test("every slot's proof verifies, n = 1 … 70")
    func everyProofVerifies() throws {
        for n in 1...70 {
            let l = leaves(n)
            let t = try tree(l)
            #expect(t.slotCount == n && t.depth == MerkleTree.depth(slotCount: n))
            for s in 0..<n {
                let proof = t.proof(slot: s)
                #expect(proof.count == t.depth * 32)
                #expect(MerkleTree.root(leafHash: l[s], slot: s, slotCount: n, proof: proof) == t.root)
                #expect(MerkleTree.verify(root: t.root, leafHash: l[s], slot: s, slotCount: n, proof: proof))
            }
        }
    }

    @Test("flipped bits, wrong slots, wrong lengths and foreign proofs are rejected")
    func rejections() throws {
        for n in [2, 3, 5, 8, 13, 33] {
            let l = leaves(n)
            let t = try tree(l)
            let other = try tree(leaves(n, tag: "other"))
            #expect(other.root != t.root)
            let root = t.root
            for s in 0..<n {
                let proof = t.proof(slot: s)
                func accepts(_ root: [UInt8], _ leaf: [UInt8], _ slot: Int, _ proof: [UInt8], count: Int = n) -> Bool {
                    MerkleTree.verify(root: root, leafHash: leaf, slot: slot, slotCount: count, proof: proof)
                }
                #expect(accepts(root, l[s], s, proof))
                for bit in 0..<(proof.count * 8) {
                    var flipped = proof
                    flipped[bit / 8] ^= 1 << (bit % 8)
                    #expect(!accepts(root, l[s], s, flipped), "n \(n) slot \(s) proof bit \(bit)")
                }
                for bit in 0..<256 {
                    var flippedLeaf = l[s]
                    flippedLeaf[bit / 8] ^= 1 << (bit % 8)
                    #expect(!accepts(root, flippedLeaf, s, proof))
                    var flippedRoot = root
                    flippedRoot[bit / 8] ^= 1 << (bit % 8)
                    #expect(!accepts(flippedRoot, l[s], s, proof))
                }
                for wrong in 0..<n where wrong != s {
                    #expect(!accepts(root, l[s], wrong, proof), "n \(n) slot \(s) as \(wrong)")
                }
                #expect(!accepts(root, l[s], s, Array(proof.dropLast(32))))
                #expect(!accepts(root, l[s], s, proof + zero))
                #expect(!accepts(root, l[s], s, Array(proof.dropLast())))
                #expect(!accepts(root, l[s], s + n, proof))
                #expect(!accepts(root, l[s], -1, proof))
                #expect(!accepts(root, l[s], s, other.proof(slot: s)))
                #expect(!accepts(other.root, l[s], s, proof))
                #expect(!accepts(root, Array(l[s].dropLast()), s, proof))
                #expect(!accepts(Array(root.dropLast()), l[s], s, proof))
            }
            // Slots ≥ n that a padded tree has room for are rejected even with a proof of the right length.
            let padded = 1 << t.depth
            for slot in n..<padded {
                let fake = [UInt8](repeating: 0, count: t.depth * 32)
                #expect(MerkleTree.root(leafHash: zero, slot: slot, slotCount: n, proof: fake) == nil)
            }
        }
        // n = 1: only slot 0 with an empty proof.
        let single = leaves(1)[0]
        #expect(MerkleTree.verify(root: single, leafHash: single, slot: 0, slotCount: 1, proof: []))
        #expect(!MerkleTree.verify(root: single, leafHash: single, slot: 1, slotCount: 1, proof: []))
        #expect(!MerkleTree.verify(root: single, leafHash: single, slot: 0, slotCount: 1, proof: zero))
        #expect(!MerkleTree.verify(root: single, leafHash: single, slot: 0, slotCount: 0, proof: []))
        #expect(MerkleTree.root(leafHash: single, slot: 0, slotCount: (1 << 24) + 1, proof: []) == nil)
    }

    @Test("the slot count only sets the proof length and the slot range")
    func slotCount() throws {
        let l = leaves(6)
        let t = try tree(l)
        let proof = t.proof(slot: 2)
        #expect(MerkleTree.verify(root: t.root, leafHash: l[2], slot: 2, slotCount: 6, proof: proof))
        // n = 7 and n = 8 have the same depth as 6: the same computation, so the same answer. The root does not
        // commit to n; a caller must authenticate n separately (SPEC.md §2.7).
        #expect(MerkleTree.verify(root: t.root, leafHash: l[2], slot: 2, slotCount: 8, proof: proof))
        // Another depth: a proof of the wrong length.
        #expect(!MerkleTree.verify(root: t.root, leafHash: l[2], slot: 2, slotCount: 9, proof: proof))
        #expect(!MerkleTree.verify(root: t.root, leafHash: l[2], slot: 2, slotCount: 4, proof: proof))
        // A slot inside the padded tree but ≥ n.
        #expect(!MerkleTree.verify(root: t.root, leafHash: zero, slot: 6, slotCount: 6, proof: t.proof(slot: 5)))
    }

    @Test("100,000 slots: spot checks against a reference built level by level")
    func largeTree() throws {
        let n = 100_000
        var flat: [UInt8] = []
        flat.reserveCapacity(n * 32)
        for i in 0..<n {
            flat += MerkleTree.leafHash(concatenating: [UInt8(i & 0xff), UInt8(i >> 8 & 0xff)], [UInt8(i >> 16)])
        }
        let t = try MerkleTree(leafHashes: flat, slotCount: n)
        #expect(t.depth == 17)
        // Reference: every level as [[UInt8]] over the full 2^L leaves.
        var level = (0..<(1 << 17)).map { $0 < n ? Array(flat[$0 * 32..<($0 + 1) * 32]) : zero }
        var levels = [level]
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: 2).map { node(level[$0], level[$0 + 1]) }
            levels.append(level)
        }
        #expect(t.root == level[0])
        for s in [0, 1, 2, 4_095, 50_000, 65_535, 65_536, 99_998, 99_999] {
            let expected = (0..<17).flatMap { levels[$0][(s >> $0) ^ 1] }
            let proof = t.proof(slot: s)
            #expect(proof == expected, "slot \(s)")
            let leafHash = Array(flat[s * 32..<(s + 1) * 32])
            #expect(MerkleTree.verify(root: t.root, leafHash: leafHash, slot: s, slotCount: n, proof: proof))
            #expect(!MerkleTree.verify(root: t.root, leafHash: leafHash, slot: s ^ 1, slotCount: n, proof: proof))
        }
    }

    @Test("bad input is a typed error")
    func badInput() {
        #expect(throws: SecAggCryptoError.merkleSlotCountOutOfRange(slotCount: 0, maximum: 1 << 24)) {
            try MerkleTree(leafHashes: [], slotCount: 0)
        }
        #expect(throws: SecAggCryptoError.merkleSlotCountOutOfRange(slotCount: -3, maximum: 1 << 24)) {
            try MerkleTree(leafHashes: [], slotCount: -3)
        }
        #expect(throws: SecAggCryptoError.merkleSlotCountOutOfRange(slotCount: (1 << 24) + 1, maximum: 1 << 24)) {
            try MerkleTree(leafHashes: [], slotCount: (1 << 24) + 1)
        }
        // Not a multiple of 32, and a multiple of 32 for another n.
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 95, expected: 96)) {
            try MerkleTree(leafHashes: [UInt8](repeating: 1, count: 95), slotCount: 3)
        }
        #expect(throws: SecAggCryptoError.incorrectByteCount(actual: 128, expected: 96)) {
            try MerkleTree(leafHashes: [UInt8](repeating: 1, count: 128), slotCount: 3)
        }
        #expect(
            "\(SecAggCryptoError.merkleSlotCountOutOfRange(slotCount: 0, maximum: 16))".contains("between 1 and 16"))
    }

    @Test("multiproofs: every subset of small trees, built independently and verified")
    func multiproofsOfEverySubset() throws {
        for n in 1...9 {
            let hashes = leaves(n)
            let t = try tree(hashes)
            for mask in 1..<(1 << n) {
                let slots = (0..<n).filter { mask >> $0 & 1 == 1 }
                let proof = t.multiproof(slots: slots)
                // Reference: the siblings of every path, level by level, skipping those that are on a path themselves.
                var expected: [UInt8] = []
                var known = Set(slots)
                for j in 0..<t.depth {
                    for s in known.sorted() where !known.contains(s ^ 1) {
                        expected += reference(hashes, level: j, index: s ^ 1, depth: t.depth)
                    }
                    known = Set(known.map { $0 >> 1 })
                }
                #expect(proof == expected, "n \(n) slots \(slots)")
                let flat = slots.flatMap { hashes[$0] }
                #expect(
                    MerkleTree.verify(root: t.root, leafHashes: flat, slots: slots, slotCount: n, multiproof: proof))
                if slots.count == 1 { #expect(proof == t.proof(slot: slots[0])) }
                if !proof.isEmpty {
                    var flipped = proof
                    flipped[mask % proof.count] ^= 1
                    #expect(
                        !MerkleTree.verify(
                            root: t.root, leafHashes: flat, slots: slots, slotCount: n, multiproof: flipped))
                }
            }
        }
    }

    @Test("multiproof slots must be strictly ascending: a leaf listed out of order is not taken as a proof value")
    func multiproofSlotsMustAscend() throws {
        let hashes = leaves(8)
        let t = try tree(hashes)
        let forged = leaf(Array("forged".utf8))
        // Listing slot 3 before slot 2 would make a walk that trusts the order read slot 2's real leaf from the
        // multiproof and never look at the forged leaf claimed for slot 2.
        // Slot 3's own multiproof starts with its sibling, slot 2's real leaf.
        let crafted = t.multiproof(slots: [3])
        #expect(Array(crafted.prefix(32)) == hashes[2])
        #expect(
            !MerkleTree.verify(
                root: t.root, leafHashes: hashes[3] + forged, slots: [3, 2], slotCount: 8, multiproof: crafted))
        #expect(
            !MerkleTree.verify(
                root: t.root, leafHashes: hashes[3] + hashes[3], slots: [3, 3], slotCount: 8, multiproof: crafted))
    }

    @Test("multiproofs of ring windows: at most 4L values, and far fewer than k proofs")
    func windowMultiproofs() throws {
        for (n, k) in [(1000, 30), (4096, 34), (100_000, 36)] {
            let hashes = leaves(n)
            let t = try tree(hashes)
            for start in [0, 1, n / 3, n - k / 2, n - 1] {
                let slots = (0..<(k + 1)).map { (start + $0) % n }.sorted()
                let proof = t.multiproof(slots: slots)
                #expect(proof.count <= 4 * t.depth * 32)
                #expect(proof.count < k * t.depth * 32 / 4)
                #expect(
                    MerkleTree.verify(
                        root: t.root, leafHashes: slots.flatMap { hashes[$0] }, slots: slots, slotCount: n,
                        multiproof: proof))
                // A leaf moved to another slot of the window, an unsorted list, one value more or less: refused.
                var swapped = slots.flatMap { hashes[$0] }
                swapped.swapAt(0, 32)
                #expect(
                    !MerkleTree.verify(root: t.root, leafHashes: swapped, slots: slots, slotCount: n, multiproof: proof)
                )
                #expect(
                    !MerkleTree.verify(
                        root: t.root, leafHashes: slots.reversed().flatMap { hashes[$0] }, slots: slots.reversed(),
                        slotCount: n, multiproof: proof))
                #expect(
                    !MerkleTree.verify(
                        root: t.root, leafHashes: slots.flatMap { hashes[$0] }, slots: slots, slotCount: n,
                        multiproof: proof + zero))
                #expect(
                    !MerkleTree.verify(
                        root: t.root, leafHashes: slots.flatMap { hashes[$0] }, slots: slots, slotCount: n,
                        multiproof: Array(proof.dropLast(32))))
            }
        }
    }
}

/// Level `level`'s node `index` of the tree over `hashes` padded to 2^depth with zero leaves, computed from scratch.
private func reference(_ hashes: [[UInt8]], level: Int, index: Int, depth: Int) -> [UInt8] {
    if level == 0 { return index < hashes.count ? hashes[index] : zero }
    return node(
        reference(hashes, level: level - 1, index: 2 * index, depth: depth),
        reference(hashes, level: level - 1, index: 2 * index + 1, depth: depth))
}
