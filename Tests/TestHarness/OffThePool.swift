import Foundation

/// Runs blocking work (starting a server and waiting for it, `initdb`, a child process's
/// readiness) on a thread of its own and waits for it without holding one of Swift
/// concurrency's threads. The cooperative pool has one thread per core: two tests blocking
/// on it stalled every other test of the run (for the 30 s a shared PostgreSQL took to start
/// on a busy machine).
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
