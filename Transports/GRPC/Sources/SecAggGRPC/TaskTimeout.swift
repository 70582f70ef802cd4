import Synchronization

/// Whether `task` finishes within `timeout` (it is not cancelled either way): lets a server or client stop waiting
/// for connections that a peer keeps open after the session.
func finishes(_ task: Task<Void, any Error>, within timeout: Duration) async -> Bool {
    let race = Race()
    return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        race.start(continuation)
        Task {
            _ = try? await task.value
            race.finish(true)
        }
        Task {
            try? await Task.sleep(for: timeout)
            race.finish(false)
        }
    }
}

/// Resumes a continuation with the first of several results.
private final class Race: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func start(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func finish(_ value: Bool) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
