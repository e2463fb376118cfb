import Synchronization

/// PINGs in flight, in order: each PONG answers the oldest. A flush waits for its own PONG;
/// keepalive PINGs count towards the stale-connection limit.
final class PongQueue: Sendable {
    enum Waiter: Sendable {
        case keepalive
        case flush(CheckedContinuation<Void, any Error>)
    }

    private struct State {
        var waiters = FIFO<Waiter>()
        var failure: NATSError?
    }

    private let state = Mutex(State())

    /// Adds a waiter; call while holding the write buffer's lock, right after writing PING,
    /// so the order of waiters is the order of PINGs. Fails the waiter if closed.
    func push(_ waiter: Waiter) {
        let failure = state.withLock { s -> NATSError? in
            if let failure = s.failure { return failure }
            s.waiters.append(waiter)
            return nil
        }
        if let failure, case .flush(let continuation) = waiter { continuation.resume(throwing: failure) }
    }

    /// A PONG arrived: releases the oldest waiter.
    func pong() {
        let waiter = state.withLock { $0.waiters.popFirst() }
        if case .flush(let continuation) = waiter { continuation.resume() }
    }

    /// Keepalive PINGs sent and not answered yet.
    var outstandingKeepalives: Int {
        state.withLock { s in
            s.waiters.elements.reduce(0) { count, waiter in
                if case .keepalive = waiter { return count + 1 }
                return count
            }
        }
    }

    /// The connection was lost: fails the waiters whose PING went with it, keeping the
    /// newest `keep` (their PINGs are still buffered for the next connection).
    func connectionLost(keepingNewest keep: Int, _ error: NATSError) {
        let lost = state.withLock { s -> ArraySlice<Waiter> in
            let all = s.waiters.removeAll()
            let kept = max(0, min(keep, all.count))
            for waiter in all.suffix(kept) { s.waiters.append(waiter) }
            return all.dropLast(kept)
        }
        for case .flush(let continuation) in lost { continuation.resume(throwing: error) }
    }

    /// Fails every waiter and every later push.
    func fail(_ error: NATSError) {
        let waiters = state.withLock { s -> ArraySlice<Waiter> in
            if s.failure == nil { s.failure = error }
            return s.waiters.removeAll()
        }
        for case .flush(let continuation) in waiters { continuation.resume(throwing: error) }
    }
}
