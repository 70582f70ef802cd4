import SecureAggregation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Each worker or item writes only its own slot, and the counts go through atomics: a slot written twice is a
/// data race ThreadSanitizer reports. (Synchronization.Mutex is avoided here: on Linux its futex lives in the
/// uninstrumented runtime, so ThreadSanitizer cannot see it order accesses.)
@Suite struct ParallelWorkTests {
    @Test("each worker runs once, worker 0 on the calling thread and every other on a thread of its own")
    func workersOnThreadsOfTheirOwn() {
        let caller = pthread_self()
        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
        slots.initialize(repeating: 0)
        defer { slots.deallocate() }
        let calls = Atomic<Int>(0)
        nonisolated(unsafe) let runs = slots
        ParallelWork.onThreads(4) { w in
            calls.add(1, ordering: .relaxed)
            runs[w] += pthread_equal(pthread_self(), caller) != 0 ? 1 : 2
        }
        #expect(calls.load(ordering: .relaxed) == 4)
        // 1: ran once on the calling thread; 2: ran once on another thread.
        #expect(Array(slots) == [1, 2, 2, 2])
        let none = Atomic<Int>(0)
        ParallelWork.onThreads(0) { _ in none.add(1, ordering: .relaxed) }
        #expect(none.load(ordering: .relaxed) == 0)
    }

    @Test("forEach visits every item exactly once and map keeps the order", arguments: [1, 2, 3, 8])
    func everyItemOnce(concurrency: Int) {
        let count = 1000
        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        slots.initialize(repeating: 0)
        defer { slots.deallocate() }
        nonisolated(unsafe) let visits = slots
        let total = Atomic<Int>(0)
        ParallelWork.forEach(count: count, concurrency: concurrency, batch: 7) { i in
            visits[i] += 1
            total.add(1, ordering: .relaxed)
        }
        #expect(total.load(ordering: .relaxed) == count)
        #expect(Array(slots) == [Int](repeating: 1, count: count))
        #expect(
            ParallelWork.map(count: count, concurrency: concurrency, batch: 3) { $0 * $0 }
                == (0..<count).map { $0 * $0 })
        #expect(ParallelWork.map(count: 0, concurrency: concurrency) { $0 }.isEmpty)
    }
}
