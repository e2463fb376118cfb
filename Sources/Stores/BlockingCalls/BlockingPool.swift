import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A few dedicated OS threads for blocking work (a C database call, bcrypt), so it never
/// occupies Swift's cooperative thread pool. Jobs run in submission order.
public final class BlockingPool: Sendable {
    private struct Queue {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var stopped = false
        var running = 0
    }

    /// What the pool and its threads share.
    private final class Shared: Sendable {
        let queue = Mutex(Queue())
        /// One signal per job, and one per thread at shutdown.
        let ready = DispatchSemaphore(value: 0)
    }

    private let shared = Shared()
    public let threadCount: Int

    /// Starts `threads` worker threads named `name`. A positive `niceness` lowers their
    /// scheduling priority, so their work yields the CPU to everything else in the process.
    public init(threads: Int, name: String, niceness: Int32 = 0) {
        threadCount = max(1, threads)
        for index in 0..<threadCount {
            NativeThread.start(name: "\(name)-\(index)") { [shared] in
                // Linux keeps a nice value per thread: `who` 0 is the calling thread.
                if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                Self.work(shared)
            }
        }
    }

    deinit { shutdown() }

    /// Jobs running on a worker thread and jobs waiting for one, now.
    public var load: (running: Int, queued: Int) {
        shared.queue.withLock { ($0.running, $0.jobs.count - $0.head) }
    }

    /// Runs `body` on a worker thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = enqueue {
                continuation.resume(with: Result { try body() })
            }
            if !accepted { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Lets queued jobs finish, then ends the threads; later `run` calls fail.
    public func shutdown() {
        let first = shared.queue.withLock { queue -> Bool in
            defer { queue.stopped = true }
            return !queue.stopped
        }
        guard first else { return }
        for _ in 0..<threadCount { shared.ready.signal() }
    }

    private func enqueue(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = shared.queue.withLock { queue -> Bool in
            guard !queue.stopped else { return false }
            queue.jobs.append(job)
            return true
        }
        if accepted { shared.ready.signal() }
        return accepted
    }

    private static func work(_ shared: Shared) {
        while true {
            shared.ready.wait()
            let job = shared.queue.withLock { queue -> (@Sendable () -> Void)? in
                guard queue.head < queue.jobs.count else { return nil }  // stopped, nothing left
                let job = queue.jobs[queue.head]
                queue.head += 1
                queue.running += 1
                if queue.head == queue.jobs.count {
                    queue.jobs.removeAll(keepingCapacity: true)
                    queue.head = 0
                }
                return job
            }
            guard let job else { return }
            job()
            shared.queue.withLock { $0.running -= 1 }
        }
    }
}
