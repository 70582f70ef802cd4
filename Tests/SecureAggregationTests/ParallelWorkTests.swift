import SecureAggregation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite struct ParallelWorkTests {
    @Test("each worker runs once, worker 0 on the calling thread and every other on a thread of its own")
    func workersOnThreadsOfTheirOwn() {
        let caller = pthread_self()
        let runs = Mutex<[(worker: Int, onCaller: Bool)]>([])
        ParallelWork.onThreads(4) { w in
            let onCaller = pthread_equal(pthread_self(), caller) != 0
            runs.withLock { $0.append((w, onCaller)) }
        }
        let sorted = runs.withLock { $0 }.sorted { $0.worker < $1.worker }
        #expect(sorted.map(\.worker) == [0, 1, 2, 3])
        #expect(sorted.map(\.onCaller) == [true, false, false, false])
        let none = Atomic<Int>(0)
        ParallelWork.onThreads(0) { _ in none.add(1, ordering: .relaxed) }
        #expect(none.load(ordering: .relaxed) == 0)
    }

    @Test("forEach visits every item exactly once and map keeps the order", arguments: [1, 2, 3, 8])
    func everyItemOnce(concurrency: Int) {
        let count = 1000
        let visits = Mutex([Int](repeating: 0, count: count))
        ParallelWork.forEach(count: count, concurrency: concurrency, batch: 7) { i in visits.withLock { $0[i] += 1 } }
        #expect(visits.withLock { $0 } == [Int](repeating: 1, count: count))
        #expect(
            ParallelWork.map(count: count, concurrency: concurrency, batch: 3) { $0 * $0 }
                == (0..<count).map { $0 * $0 })
        #expect(ParallelWork.map(count: 0, concurrency: concurrency) { $0 }.isEmpty)
    }
}
