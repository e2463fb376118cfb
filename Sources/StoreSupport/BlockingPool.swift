import Foundation

/// A few dedicated OS threads for blocking work (a C database call, bcrypt), so it never
/// occupies Swift's cooperative thread pool. Jobs run in submission order.
public final class BlockingPool: Sendable {
    private final class Queue: @unchecked Sendable {
        // @unchecked Sendable: `jobs` and `stopped` are only touched while `condition` is
        // locked; NSCondition is thread-safe.
        let condition = NSCondition()
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var stopped = false
    }

    private let queue = Queue()
    public let threadCount: Int

    /// Starts `threads` worker threads named `name`. A positive `niceness` lowers their
    /// scheduling priority, so their work yields the CPU to everything else in the process.
    public init(threads: Int, name: String, niceness: Int32 = 0) {
        threadCount = max(1, threads)
        for index in 0..<threadCount {
            let thread = Thread { [queue] in
                // Linux keeps a nice value per thread: `who` 0 is the calling thread.
                if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                Self.work(queue)
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    deinit { shutdown() }

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
        queue.condition.lock()
        queue.stopped = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    private func enqueue(_ job: @escaping @Sendable () -> Void) -> Bool {
        queue.condition.lock()
        defer { queue.condition.unlock() }
        guard !queue.stopped else { return false }
        queue.jobs.append(job)
        queue.condition.signal()
        return true
    }

    private static func work(_ queue: Queue) {
        while true {
            queue.condition.lock()
            while queue.head == queue.jobs.count && !queue.stopped { queue.condition.wait() }
            if queue.head == queue.jobs.count {
                queue.condition.unlock()
                return
            }
            let job = queue.jobs[queue.head]
            queue.head += 1
            if queue.head == queue.jobs.count {
                queue.jobs.removeAll(keepingCapacity: true)
                queue.head = 0
            }
            queue.condition.unlock()
            job()
        }
    }
}
