#if canImport(Glibc)
    import Glibc
#endif

/// State behind a pthread mutex of the adaptive kind, which spins briefly before sleeping:
/// for locks held a moment by threads that meet often (a PostgreSQL connection's, around one
/// libpq call; the span export queue's). Contended, Swift's `Mutex` (a priority-inheritance
/// futex on Linux) enters the kernel: it cost 11 % of a data service's CPU on the connection
/// lock; this one spins instead.
public final class AdaptiveLock<State: ~Copyable>: @unchecked Sendable {
    // @unchecked Sendable: `state` is only reached through `withLock`, under `mutex`.
    // Inlinable, so callers in other modules get a specialized, direct call.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var state: State

    public init(_ state: consuming State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable
    public func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
