#if canImport(Glibc)
    import Glibc
#endif

/// A mutex with a condition variable, for the one place a thread must sleep until another
/// makes room: a publisher waiting for the write buffer to drain. `Mutex` has no condition.
// @unchecked Sendable: the pthread objects and the value live at stable heap addresses; the
// pthread calls are thread-safe and `value` is only touched while the mutex is held.
final class ConditionLock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Behind a pointer: no per-access exclusivity bookkeeping on the hot path; the mutex
    /// gives the exclusivity.
    private let value: UnsafeMutablePointer<Value>

    init(_ initial: Value) {
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        // Adaptive: spins briefly before sleeping. The sections under this lock are a few
        // dozen nanoseconds (an append, a buffer swap), so a publisher that meets the I/O
        // thread here would otherwise pay a futex sleep and two context switches.
        var mutexAttributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&mutexAttributes)
        pthread_mutexattr_settype(&mutexAttributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &mutexAttributes)
        pthread_mutexattr_destroy(&mutexAttributes)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }

    /// Locks, sleeps (lock released) while `shouldWait` holds, at most `timeout`, then runs
    /// `body` with the lock held; `body` learns whether the wait timed out. The wait happens
    /// outside any access to the value, so every check reads what other threads wrote.
    func withLock<R, E: Error>(
        waitingWhile shouldWait: (Value) -> Bool, timeout: Duration,
        _ body: (inout Value, _ timedOut: Bool) throws(E) -> R
    ) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var timedOut = false
        if shouldWait(value.pointee) {
            let deadline = Deadline.after(timeout)
            var ts = timespec(
                tv_sec: Int(deadline.nanoseconds / 1_000_000_000),
                tv_nsec: Int(deadline.nanoseconds % 1_000_000_000))
            while shouldWait(value.pointee) {
                if pthread_cond_timedwait(condition, mutex, &ts) == ETIMEDOUT {
                    timedOut = true
                    break
                }
            }
        }
        return try body(&value.pointee, timedOut)
    }

    func broadcast() { pthread_cond_broadcast(condition) }
}
