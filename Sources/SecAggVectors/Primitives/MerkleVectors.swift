import Foundation
import SecAggCrypto

/// `primitives/merkle.json`: the Merkle tree of SPEC.md §2.7 — per slot count, the leaf payloads, the root and
/// proofs that must reproduce and verify, and proofs that must be rejected (a flipped byte, another slot, one hash
/// short or long, a slot ≥ n, another slot's payload).
enum MerkleVectors {
    static let algorithm = "secagg-merkle"
    static let relativePath = "primitives/merkle.json"
    /// The slot counts of the groups.
    static let slotCounts = [1, 2, 3, 5, 8, 13, 100]
    /// The slots with a valid proof when n = 100 (every slot for the smaller trees).
    static let largeTreeSlots = [0, 1, 2, 31, 63, 64, 98, 99]

    struct Group: Codable, Sendable {
        var slotCount: Int
        var depth: Int
        /// Slot i holds LeafHash(leafPayloads[i]).
        var leafPayloads: [String]
        var root: String
        var tests: [Test]
        /// Multiproofs over sets of slots of this tree.
        var multiproofTests: [MultiproofTest]
    }

    struct MultiproofTest: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// The claimed slots, as the verifier receives them (unsorted, repeated or ≥ n in some invalid cases).
        var slots: [Int]
        /// One payload per listed slot, whose leaf hash is checked there.
        var leafPayloads: [String]
        var multiproof: String
        var result: String
    }

    struct Test: Codable, Sendable {
        var tcId: Int
        var comment: String
        /// The claimed slot (may be ≥ n in an invalid case).
        var slot: Int
        /// The payload whose leaf hash is checked at `slot`.
        var leafPayload: String
        var proof: String
        var result: String
    }

    struct Generator: VectorGenerator {
        var relativePath: String { MerkleVectors.relativePath }

        func generate() throws -> Data {
            let label = "secagg/v1/vectors/merkle"
            var rng = PrimitiveVectors.inputGenerator(label)
            var groups: [Group] = []
            var tcId = 0
            for n in MerkleVectors.slotCounts {
                // Payloads of 0 … 47 bytes.
                let payloads = (0..<n).map { _ in rng.bytes(count: Int(rng.next(below: 48))) }
                let tree = try MerkleTree(
                    leafHashes: payloads.flatMap { MerkleTree.leafHash($0) }, slotCount: n)
                var tests: [Test] = []
                /// Every case but the valid proofs is a rejection; a generator that disagrees is a bug.
                func add(_ comment: String, slot: Int, payload: [UInt8], proof: [UInt8], valid: Bool = false) throws {
                    tcId += 1
                    let accepted = MerkleTree.verify(
                        root: tree.root, leafHash: MerkleTree.leafHash(payload), slot: slot, slotCount: n, proof: proof)
                    guard accepted == valid else {
                        throw VectorError.malformedFile(
                            file: MerkleVectors.relativePath, reason: "generated case \(tcId) (\(comment)) misjudged")
                    }
                    tests.append(
                        Test(
                            tcId: tcId, comment: comment, slot: slot, leafPayload: Hex.encode(payload),
                            proof: Hex.encode(proof), result: valid ? "valid" : "invalid"))
                }
                let slots = n == 100 ? MerkleVectors.largeTreeSlots : Array(0..<n)
                for slot in slots {
                    try add(
                        "slot \(slot) of \(n)", slot: slot, payload: payloads[slot], proof: tree.proof(slot: slot),
                        valid: true)
                }
                let s = Int(rng.next(below: UInt64(n)))
                let proof = tree.proof(slot: s)
                if n > 1 {
                    var flipped = proof
                    let byte = Int(rng.next(below: UInt64(proof.count)))
                    flipped[byte] ^= 1 << UInt8(rng.next(below: 8))
                    try add(
                        "slot \(s): proof byte \(byte) with one bit flipped", slot: s, payload: payloads[s],
                        proof: flipped)
                    let other = (s + 1 + Int(rng.next(below: UInt64(n - 1)))) % n
                    try add(
                        "the proof of slot \(s) presented as slot \(other)", slot: other, payload: payloads[s],
                        proof: proof)
                    try add(
                        "slot \(s) with the payload of slot \(other)", slot: s, payload: payloads[other], proof: proof)
                    try add(
                        "slot \(s): proof one hash short", slot: s, payload: payloads[s],
                        proof: Array(proof.dropLast(32)))
                }
                try add(
                    "slot \(s): proof one hash long", slot: s, payload: payloads[s],
                    proof: proof + rng.bytes(count: MerkleTree.digestByteCount))
                // A slot ≥ n with a proof of the right length: the last slot's proof, at slot n.
                try add(
                    "slot \(n) ≥ n with slot \(n - 1)'s payload and proof", slot: n, payload: payloads[n - 1],
                    proof: tree.proof(slot: n - 1))
                groups.append(
                    Group(
                        slotCount: n, depth: tree.depth, leafPayloads: payloads.map { Hex.encode($0) },
                        root: Hex.encode(tree.root), tests: tests, multiproofTests: []))
            }
            // Multiproofs, from a generator of their own so that the cases above keep their bytes.
            var mrng = PrimitiveVectors.inputGenerator("secagg/v1/vectors/merkle-multiproof")
            for g in groups.indices {
                let n = groups[g].slotCount
                let payloads = MerkleVectors.payloads(of: groups[g])
                let tree = try MerkleTree(leafHashes: payloads.flatMap { MerkleTree.leafHash($0) }, slotCount: n)
                var tests: [MultiproofTest] = []
                func add(
                    _ comment: String, slots: [Int], payloads listed: [[UInt8]], multiproof: [UInt8],
                    valid: Bool = false
                )
                    throws
                {
                    tcId += 1
                    let accepted = MerkleTree.verify(
                        root: tree.root, leafHashes: listed.flatMap { MerkleTree.leafHash($0) }, slots: slots,
                        slotCount: n, multiproof: multiproof)
                    guard accepted == valid else {
                        throw VectorError.malformedFile(
                            file: MerkleVectors.relativePath, reason: "generated case \(tcId) (\(comment)) misjudged")
                    }
                    tests.append(
                        MultiproofTest(
                            tcId: tcId, comment: comment, slots: slots, leafPayloads: listed.map { Hex.encode($0) },
                            multiproof: Hex.encode(multiproof), result: valid ? "valid" : "invalid"))
                }
                func valid(_ comment: String, _ slots: [Int]) throws {
                    try add(
                        comment, slots: slots, payloads: slots.map { payloads[$0] },
                        multiproof: tree.multiproof(slots: slots), valid: true)
                }
                var sets: [(String, [Int])] = [
                    ("one slot", [Int(mrng.next(below: UInt64(n)))]), ("every slot", Array(0..<n)),
                ]
                if n >= 3 {
                    let start = Int(mrng.next(below: UInt64(n - 2)))
                    sets.append(("a run of 3", Array(start..<start + 3)))
                    sets.append(("a window wrapping past the last slot", [0, 1, n - 1]))
                    let random = Set((0..<max(2, n / 4)).map { _ in Int(mrng.next(below: UInt64(n))) }).sorted()
                    sets.append(("\(random.count) random slots", random))
                }
                for (comment, slots) in sets { try valid("\(comment) of \(n)", slots) }
                // Rejections, on the last valid set with at least two slots (or the single slot).
                let (_, slots) = sets.last { $0.1.count >= 2 } ?? sets[0]
                let listed = slots.map { payloads[$0] }
                let proof = tree.multiproof(slots: slots)
                if !proof.isEmpty {
                    var flipped = proof
                    let byte = Int(mrng.next(below: UInt64(proof.count)))
                    flipped[byte] ^= 1 << UInt8(mrng.next(below: 8))
                    try add(
                        "multiproof byte \(byte) with one bit flipped", slots: slots, payloads: listed,
                        multiproof: flipped)
                    try add("one value short", slots: slots, payloads: listed, multiproof: Array(proof.dropLast(32)))
                    try add(
                        "a multiproof one byte short of a whole value", slots: slots, payloads: listed,
                        multiproof: Array(proof.dropLast()))
                }
                try add(
                    "one value too many", slots: slots, payloads: listed,
                    multiproof: proof + mrng.bytes(count: MerkleTree.digestByteCount))
                try add("no slots", slots: [], payloads: [], multiproof: proof)
                try add("a slot ≥ n", slots: slots.dropLast() + [n], payloads: listed, multiproof: proof)
                if slots.count >= 2 {
                    try add(
                        "the slots in descending order", slots: slots.reversed(), payloads: listed.reversed(),
                        multiproof: proof)
                    try add(
                        "a slot listed twice", slots: [slots[0]] + slots.dropLast(),
                        payloads: [listed[0]] + listed.dropLast(),
                        multiproof: proof)
                    var swapped = listed
                    swapped.swapAt(0, 1)
                    if swapped != listed {
                        try add("two slots' payloads swapped", slots: slots, payloads: swapped, multiproof: proof)
                    }
                }
                if n > 1 {
                    var wrong = listed
                    wrong[0] = wrong[0] + [0]
                    try add("a payload with a byte appended", slots: slots, payloads: wrong, multiproof: proof)
                }
                groups[g].multiproofTests = tests
            }
            return try VectorJson.encode(
                VectorEnvelope(
                    algorithm: MerkleVectors.algorithm, generator: PrimitiveVectors.generatorNote(label),
                    header: "Merkle tree (SPEC.md §2.7) over slotCount slots; slot i holds LeafHash(leafPayloads[i]) "
                        + "= SHA-256(0x00 || payload), padding to 2^depth with 32 zero bytes, Node(a, b) = "
                        + "SHA-256(0x01 || a || b). Valid: the tree's proof of slot is proof, and (root, slotCount, "
                        + "slot, LeafHash(leafPayload), proof) verifies. Invalid: it must not verify. "
                        + "multiproofTests: valid, the tree's multiproof of slots is multiproof and it verifies with "
                        + "LeafHash of each listed payload at its slot; invalid, it must not verify.",
                    testGroups: groups, testCount: tcId))
        }
    }

    /// The leaf payloads of a generated group.
    private static func payloads(of group: Group) -> [[UInt8]] {
        group.leafPayloads.map { Hex.decode($0) ?? [] }
    }

    struct Suite: OwnFormatSuite {
        var algorithm: String { MerkleVectors.algorithm }

        func verify(_ data: Data, fileName: String) throws -> [VectorCaseResult] {
            let file = try VectorJson.decode(VectorEnvelope<Group>.self, from: data, fileName: fileName)
            let reader = FieldReader(fileName: fileName)
            var recorder = CaseRecorder(fileName: fileName)
            for group in file.testGroups {
                let first = group.tests.first?.tcId ?? 0
                guard (1...MerkleTree.maximumSlotCount).contains(group.slotCount),
                    group.leafPayloads.count == group.slotCount
                else {
                    throw VectorError.malformedFile(file: fileName, reason: "group of case \(first): bad slotCount")
                }
                var leafHashes: [UInt8] = []
                for payload in group.leafPayloads {
                    leafHashes += MerkleTree.leafHash(try reader.bytes(payload, "leafPayloads", caseId: first))
                }
                let root = try reader.bytes(group.root, "root", caseId: first)
                let tree = try? MerkleTree(leafHashes: leafHashes, slotCount: group.slotCount)
                let treeMatches = tree?.root == root && tree?.depth == group.depth
                for test in group.tests {
                    let id = test.tcId
                    try reader.result(test.result, caseId: id)
                    let payload = try reader.bytes(test.leafPayload, "leafPayload", caseId: id)
                    let proof = try reader.bytes(test.proof, "proof", caseId: id)
                    let accepted = MerkleTree.verify(
                        root: root, leafHash: MerkleTree.leafHash(payload), slot: test.slot,
                        slotCount: group.slotCount, proof: proof)
                    if test.result == "valid" {
                        let inRange = (0..<group.slotCount).contains(test.slot)
                        let reproduced = inRange && tree.map { $0.proof(slot: test.slot) == proof } ?? false
                        recorder.record(
                            id, treeMatches && reproduced && accepted,
                            "root matches \(treeMatches), proof reproduced \(reproduced), verifies \(accepted)")
                    } else {
                        recorder.record(
                            id, treeMatches && !accepted, "root matches \(treeMatches), verifies \(accepted)")
                    }
                }
                for test in group.multiproofTests {
                    let id = test.tcId
                    try reader.result(test.result, caseId: id)
                    guard test.leafPayloads.count == test.slots.count else {
                        throw VectorError.malformedFile(file: fileName, reason: "case \(id): one payload per slot")
                    }
                    var hashes: [UInt8] = []
                    for payload in test.leafPayloads {
                        hashes += MerkleTree.leafHash(try reader.bytes(payload, "leafPayloads", caseId: id))
                    }
                    let multiproof = try reader.bytes(test.multiproof, "multiproof", caseId: id)
                    let accepted = MerkleTree.verify(
                        root: root, leafHashes: hashes, slots: test.slots, slotCount: group.slotCount,
                        multiproof: multiproof)
                    if test.result == "valid" {
                        let usable =
                            !test.slots.isEmpty && test.slots.allSatisfy { (0..<group.slotCount).contains($0) }
                            && zip(test.slots, test.slots.dropFirst()).allSatisfy(<)
                        let reproduced = usable && tree.map { $0.multiproof(slots: test.slots) == multiproof } ?? false
                        recorder.record(
                            id, treeMatches && reproduced && accepted,
                            "root matches \(treeMatches), multiproof reproduced \(reproduced), verifies \(accepted)")
                    } else {
                        recorder.record(
                            id, treeMatches && !accepted, "root matches \(treeMatches), verifies \(accepted)")
                    }
                }
            }
            return recorder.results
        }
    }
}
