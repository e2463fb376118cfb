import Foundation
import NATSWire
import Synchronization
import TestHarness
import Testing

/// Connects to `server` with options tweaked by `configure`.
func connect(_ url: String, _ configure: (inout NATSOptions) -> Void = { _ in }) async throws -> NATSClient {
    var options = NATSOptions(url: url)
    configure(&options)
    return try await NATSClient.connect(options)
}

/// Polls `value` until it is non-empty or `timeout` passes; returns the last value.
func eventuallyValue<T: Collection>(timeout: Duration = .seconds(5), _ value: () async -> T) async -> T {
    _ = await eventually(timeout: timeout) { await !value().isEmpty }
    return await value()
}

/// A task executor with one thread of its own, to check where tasks run.
final class ThreadExecutor: TaskExecutor, Sendable {
    private let jobs = Mutex<(queue: [UnownedJob], stopped: Bool)>(([], false))
    private let ready = DispatchSemaphore(value: 0)
    private let threadID = Atomic<UInt>(0)

    init() {
        Thread { [self] in run() }.start()
    }

    /// Whether the caller runs on the executor's thread.
    var isCurrentThread: Bool { threadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.queue.append(job) }
        ready.signal()
    }

    func stop() {
        jobs.withLock { $0.stopped = true }
        ready.signal()
    }

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        while true {
            ready.wait()
            let (batch, stopped) = jobs.withLock { state in
                defer { state.queue.removeAll() }
                return (state.queue, state.stopped)
            }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            if stopped { return }
        }
    }
}
