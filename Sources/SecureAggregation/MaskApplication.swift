import Dispatch
public import SecAggCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One mask to add to (or subtract from) every input vector: PRG(seed) on stream i for vector i.
public struct MaskJob: Sendable {
    /// The PRG seed (self-mask seed or pairwise seed).
    public var seed: SecretBytes
    /// Subtract instead of add.
    public var negate: Bool

    /// Creates a job.
    public init(seed: SecretBytes, negate: Bool) {
        self.seed = seed
        self.negate = negate
    }
}

/// Applies many masks to vectors, optionally on several threads, without one buffer per mask.
///
/// For Z_{2^b} (and power-of-two q) the vector is cut into cache-sized tiles; each worker takes tiles and
/// applies every mask to its tile using the PRG's random access, so the tile stays in cache and no extra
/// buffer is needed. Rejection-sampled rings have no random access: workers split the masks instead and
/// each sums into its own accumulator, merged at the end (memory: workers × vector length).
public enum MaskApplication {
    /// Elements per tile: 64 KiB of UInt64, plus at most 32 KiB of keystream, stays in L2.
    public static let tileElementCount = 8192

    /// vectors[i] ±= PRG(job.seed, stream i) for every job, in each vector's ring.
    public static func apply(
        _ jobs: [MaskJob], to vectors: inout [[UInt64]], inputs: [InputSpecification], concurrency: Int = 1
    ) throws(SecAggCryptoError) {
        let prgs = try prepare(jobs, streams: inputs.count)
        for (i, spec) in inputs.enumerated() where i < vectors.count {
            let streamPrgs = prgs.map { $0[i] }
            try vectors[i].withUnsafeMutableBufferPointer { (buffer) throws(SecAggCryptoError) in
                try apply(
                    streamPrgs, negate: jobs.map(\.negate), to: buffer, modulus: spec.modulus, concurrency: concurrency)
            }
        }
    }

    private static func prepare(_ jobs: [MaskJob], streams: Int) throws(SecAggCryptoError) -> [[MaskPrg]] {
        var out: [[MaskPrg]] = []
        out.reserveCapacity(jobs.count)
        for job in jobs {
            var perStream: [MaskPrg] = []
            for s in 0..<streams { perStream.append(try MaskPrg(seed: job.seed, stream: UInt32(s))) }
            out.append(perStream)
        }
        return out
    }

    /// Applies the PRGs to one buffer.
    static func apply(
        _ prgs: [MaskPrg], negate: [Bool], to buffer: UnsafeMutableBufferPointer<UInt64>, modulus: RingModulus,
        concurrency: Int
    ) throws(SecAggCryptoError) {
        guard !prgs.isEmpty, buffer.count > 0 else { return }
        let workers = max(1, concurrency)
        if modulus.isPowerOfTwo {
            let tiles = (buffer.count + tileElementCount - 1) / tileElementCount
            let errors = ErrorBox()
            nonisolated(unsafe) let target = buffer
            let body: @Sendable (Int) -> Void = { tile in
                let start = tile * tileElementCount
                let end = min(start + tileElementCount, target.count)
                let slice = UnsafeMutableBufferPointer(rebasing: target[start..<end])
                for (prg, neg) in zip(prgs, negate) {
                    do throws(SecAggCryptoError) {
                        try prg.apply(to: slice, elementOffset: start, modulus: modulus, subtract: neg)
                    } catch {
                        errors.set(error)
                    }
                }
            }
            if workers == 1 || tiles == 1 {
                for tile in 0..<tiles { body(tile) }
            } else {
                DispatchQueue.concurrentPerform(iterations: tiles, execute: body)
            }
            if let error = errors.error { throw error }
        } else {
            if workers == 1 || prgs.count == 1 {
                for (prg, neg) in zip(prgs, negate) {
                    try prg.apply(to: buffer, elementOffset: 0, modulus: modulus, subtract: neg)
                }
                return
            }
            // Split the masks among workers; each accumulates its share of the masks into its own buffer.
            let groups = min(workers, prgs.count)
            let length = buffer.count
            let accumulators = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: groups * length)
            accumulators.initialize(repeating: 0)
            defer { accumulators.deallocate() }
            nonisolated(unsafe) let acc = accumulators
            let errors = ErrorBox()
            DispatchQueue.concurrentPerform(iterations: groups) { g in
                let mine = UnsafeMutableBufferPointer(rebasing: acc[(g * length)..<((g + 1) * length)])
                var j = g
                while j < prgs.count {
                    do throws(SecAggCryptoError) {
                        try prgs[j].apply(to: mine, elementOffset: 0, modulus: modulus, subtract: negate[j])
                    } catch {
                        errors.set(error)
                    }
                    j += groups
                }
            }
            if let error = errors.error { throw error }
            for g in 0..<groups {
                for k in 0..<length { buffer[k] = modulus.add(buffer[k], acc[g * length + k]) }
            }
        }
    }
}

/// Collects the first error thrown by a worker.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLockLike()
    private var stored: SecAggCryptoError?

    var error: SecAggCryptoError? { lock.withLock { stored } }

    func set(_ error: SecAggCryptoError) {
        lock.withLock { if stored == nil { stored = error } }
    }
}

/// A minimal mutex over a pthread mutex (Foundation-free).
final class NSLockLike: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
