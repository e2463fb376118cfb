import Synchronization

/// Bounds how many requests an endpoint works on at once: `acquire` waits while the limit
/// is reached; `release` lets the next one in.
final class AsyncLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters = FIFO<CheckedContinuation<Void, Never>>()
    }

    private let state: Mutex<State>

    init(limit: Int) { state = Mutex(State(available: limit)) }

    func acquire() async {
        let acquired = state.withLock { s -> Bool in
            if s.available > 0 {
                s.available -= 1
                return true
            }
            return false
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiters.popFirst() else {
                s.available += 1
                return nil
            }
            return waiter
        }
        next?.resume()
    }
}
