package import SecAggCrypto
import Synchronization

/// One mask to add to (or subtract from) every input vector: PRG(seed) on stream i for vector i.
package struct MaskJob: Sendable {
    /// The PRG seed (self-mask seed or pairwise seed).
    package var seed: SecretBytes
    /// Subtract instead of add.
    package var negate: Bool

    /// Creates a job.
    package init(seed: SecretBytes, negate: Bool) {
        self.seed = seed
        self.negate = negate
    }
}

/// Applies many masks to vectors, optionally on several threads, without one buffer per mask.
///
/// The work is a grid of (tile, group of masks) items. For Z_{2^b} (and power-of-two q) a tile is a
/// cache-sized slice of the vector and every mask of the group is generated for that slice only, through
/// the PRG's random access, so the slice stays in cache while the keystream streams past it. Workers (threads
/// of their own, not Swift's cooperative pool) claim items from a shared atomic counter (so a core slowed by
/// other load simply takes fewer); worker 0 adds straight into the vector and every other worker into one
/// accumulator of its own, merged at the end. Memory is therefore (workers − 1) × vector length, whatever
/// the number of masks. Rejection-sampled rings have no random access: their tile is the whole vector and
/// an item is one group of masks.
package enum MaskApplication {
    /// Elements per tile: 32 KiB of UInt64 target plus one 16 KiB keystream chunk (32-bit words) stay in L1/L2;
    /// measured a little faster than 8,192 at n = 500, m = 100K on the reference machine.
    package static let tileElementCount = 4096
    /// Items per worker the grid aims for: enough for the shared counter to balance uneven cores.
    static let itemsPerWorker = 24

    /// vectors[i] ±= PRG(job.seed, stream i) for every job, in each vector's ring.
    package static func apply(
        _ jobs: [MaskJob], to vectors: inout [[UInt64]], inputs: [InputSpecification], concurrency: Int = 1
    ) throws(SecAggCryptoError) {
        guard !jobs.isEmpty else { return }
        let negate = jobs.map(\.negate)
        for (i, spec) in inputs.enumerated() where i < vectors.count {
            var prgs: [MaskPrg] = []
            prgs.reserveCapacity(jobs.count)
            for job in jobs { prgs.append(try MaskPrg(seed: job.seed, stream: UInt32(i))) }
            try vectors[i].withUnsafeMutableBufferPointer { (buffer) throws(SecAggCryptoError) in
                try apply(prgs, negate: negate, to: buffer, modulus: spec.modulus, concurrency: concurrency)
            }
        }
    }

    /// Applies the PRGs to one buffer.
    static func apply(
        _ prgs: [MaskPrg], negate: [Bool], to buffer: UnsafeMutableBufferPointer<UInt64>, modulus: RingModulus,
        concurrency: Int
    ) throws(SecAggCryptoError) {
        guard !prgs.isEmpty, buffer.count > 0 else { return }
        let length = buffer.count
        let tileLength = modulus.isPowerOfTwo ? tileElementCount : length
        let tiles = (length + tileLength - 1) / tileLength
        let workers = max(1, min(concurrency, tiles * prgs.count))

        if workers == 1 {
            // Everything on the calling thread, tile by tile: no accumulator, one scratch buffer.
            let scratch = MaskScratch()
            for tile in 0..<tiles {
                let start = tile * tileLength
                let slice = UnsafeMutableBufferPointer(rebasing: buffer[start..<min(start + tileLength, length)])
                for j in prgs.indices {
                    try prgs[j].apply(
                        to: slice, elementOffset: start, modulus: modulus, subtract: negate[j], scratch: scratch)
                }
            }
            return
        }

        // Groups of masks per tile so that the grid has about itemsPerWorker items per worker.
        let groups = min(prgs.count, max(1, (workers * itemsPerWorker + tiles - 1) / tiles))
        let groupSize = (prgs.count + groups - 1) / groups
        let items = tiles * groups
        let accumulators = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: (workers - 1) * length)
        accumulators.initialize(repeating: 0)
        defer { accumulators.deallocate() }
        nonisolated(unsafe) let target = buffer
        nonisolated(unsafe) let acc = accumulators
        let nextItem = Atomic<Int>(0)
        let failure = Mutex<SecAggCryptoError?>(nil)
        ParallelWork.onThreads(workers) { w in
            let mine =
                w == 0 ? target : UnsafeMutableBufferPointer(rebasing: acc[((w - 1) * length)..<(w * length)])
            let scratch = MaskScratch()
            while true {
                let item = nextItem.wrappingAdd(1, ordering: .relaxed).oldValue
                guard item < items else { break }
                let tile = item / groups
                let group = item % groups
                let start = tile * tileLength
                let slice = UnsafeMutableBufferPointer(rebasing: mine[start..<min(start + tileLength, length)])
                var j = group * groupSize
                let end = min(j + groupSize, prgs.count)
                while j < end {
                    do throws(SecAggCryptoError) {
                        try prgs[j].apply(
                            to: slice, elementOffset: start, modulus: modulus, subtract: negate[j], scratch: scratch)
                    } catch {
                        failure.withLock { if $0 == nil { $0 = error } }
                        nextItem.store(items, ordering: .relaxed)  // no further items
                    }
                    j += 1
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        // Merge the accumulators, in parallel over disjoint ranges of the vector.
        let mergeTiles = (length + tileElementCount - 1) / tileElementCount
        ParallelWork.onThreads(min(workers, mergeTiles)) { part in
            let parts = min(workers, mergeTiles)
            let lower = length * part / parts
            let upper = length * (part + 1) / parts
            for w in 1..<workers {
                let base = (w - 1) * length
                if modulus.isPowerOfTwo {
                    let mask = modulus.elementMask
                    for k in lower..<upper { target[k] = (target[k] &+ acc[base + k]) & mask }
                } else {
                    for k in lower..<upper { target[k] = modulus.add(target[k], acc[base + k]) }
                }
            }
        }
    }
}

extension MaskApplication {
    /// A known answer for the masking path the engine uses, checked before any party runs (SPEC.md §11.7):
    /// two masks (one added, one subtracted) applied by ``apply(_:to:inputs:concurrency:)`` to zero vectors
    /// of 20,000 elements of Z_{2^32} and 5,000 of Z_{2^13} — tiles at offsets, whole 16-block groups, so the
    /// fused SIMD kernel runs where the build uses it — hashed and compared with the digest computed from
    /// SPEC §4 by a portable path (the Python model of `Vectors/tools/crosscheck_primitives.py`;
    /// `MaskApplicationTests` recomputes it from the raw keystream).
    ///
    /// Client and server expand masks with the same code, so a wrong keystream would cancel in the sum and a
    /// session would still verify while elements went unmasked; this check is what catches such a fault.
    package static let knownAnswerDigest = "da855536278b45305e16683cc249b9262164aad09c420da83c9d40f74cfc6292"

    /// The vectors of the known-answer check, masked by the default path (`concurrency` workers).
    package static func knownAnswerVectors(concurrency: Int = 1) throws(SecAggCryptoError) -> [[UInt64]] {
        let inputs = [
            InputSpecification(name: "a", length: 20_000, modulus: .powerOfTwo(bitWidth: 32)),
            InputSpecification(name: "b", length: 5_000, modulus: .powerOfTwo(bitWidth: 13)),
        ]
        var vectors = inputs.map { [UInt64](repeating: 0, count: $0.length) }
        let jobs = [
            MaskJob(seed: SecretBytes(copying: Hkdf.sha256(Array("secagg/v1/known-answer/add".utf8))), negate: false),
            MaskJob(
                seed: SecretBytes(copying: Hkdf.sha256(Array("secagg/v1/known-answer/subtract".utf8))), negate: true),
        ]
        try apply(jobs, to: &vectors, inputs: inputs, concurrency: concurrency)
        return vectors
    }

    /// SHA-256 over every element as LE64, vector after vector, in hex.
    package static func digest(_ vectors: [[UInt64]]) -> String {
        var bytes: [UInt8] = []
        for vector in vectors { for element in vector { appendLittleEndian(element, to: &bytes) } }
        return Hkdf.sha256(bytes).map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }

    /// True when the default masking path reproduces the known answer (computed once per process, on one
    /// worker and on two).
    package static let knownAnswerPasses: Bool = {
        guard let one = try? knownAnswerVectors(concurrency: 1), let two = try? knownAnswerVectors(concurrency: 2)
        else { return false }
        return digest(one) == knownAnswerDigest && digest(two) == knownAnswerDigest
    }()
}
