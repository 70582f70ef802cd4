import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs CPU-heavy work on threads of its own, never on Swift's cooperative pool: a server unmasking a large
/// session from inside a task keeps one pool thread waiting, not all of them computing.
package enum ParallelWork {
    /// Calls `body(w)` for every worker w in 0..<workers, worker 0 on the calling thread and each other on a
    /// new thread, and returns once all have finished (a worker whose thread cannot be started runs on the
    /// calling thread afterwards).
    package static func onThreads(_ workers: Int, _ body: @Sendable (Int) -> Void) {
        guard workers > 1 else {
            if workers == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var threads: [pthread_t] = []
            var refused: [Int] = []
            threads.reserveCapacity(workers - 1)
            for w in 1..<workers {
                if let thread = spawn(ThreadStart { body(w) }) {
                    threads.append(thread)
                } else {
                    refused.append(w)
                }
            }
            body(0)
            for w in refused { body(w) }
            // Every thread has released its ThreadStart (and so `body`) when it is joined.
            for thread in threads { pthread_join(thread, nil) }
        }
    }

    /// Calls `body(i)` for every i in 0..<count on up to `concurrency` threads, items taken in batches of
    /// `batch` from a shared counter.
    package static func forEach(count: Int, concurrency: Int, batch: Int = 16, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(concurrency, (count + batch - 1) / batch))
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        // Each worker claims the next batch until none is left, so a core slowed by other load takes fewer.
        let batches = (count + batch - 1) / batch
        let nextBatch = Atomic<Int>(0)
        onThreads(workers) { _ in
            while true {
                let b = nextBatch.wrappingAdd(1, ordering: .relaxed).oldValue
                guard b < batches else { break }
                for i in (b * batch)..<min((b + 1) * batch, count) { body(i) }
            }
        }
    }

    /// `transform(i)` for every i in 0..<count, computed on up to `concurrency` threads, in order.
    package static func map<T: Sendable>(
        count: Int, concurrency: Int, batch: Int = 16, _ transform: @Sendable (Int) -> T
    )
        -> [T]
    {
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: max(count, 1))
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        nonisolated(unsafe) let slots = results
        forEach(count: count, concurrency: concurrency, batch: batch) { i in slots[i] = transform(i) }
        return (0..<count).compactMap { results[$0] }
    }

    /// What a new thread runs (handed over retained, released by the thread).
    private final class ThreadStart {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts `start` on a new thread; nil (and `start` not run) when the system refuses one.
    private static func spawn(_ start: ThreadStart) -> pthread_t? {
        let context = Unmanaged.passRetained(start).toOpaque()
        #if canImport(Darwin)
            var thread: pthread_t?
        #else
            var thread = pthread_t()
        #endif
        guard pthread_create(&thread, nil, { context in ParallelWork.threadMain(context) }, context) == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            return nil
        }
        return thread
    }

    private static func threadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        guard let context else { return nil }
        Unmanaged<ThreadStart>.fromOpaque(context).takeRetainedValue().run()
        return nil
    }
}
