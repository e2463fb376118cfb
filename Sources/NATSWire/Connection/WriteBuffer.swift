import Synchronization

/// Outbound bytes between the publishing threads and the I/O thread.
///
/// Publishers append whole operations under a lock, so many small publishes coalesce into
/// one large write. The I/O thread swaps the filled buffer for its emptied one (no copy, no
/// allocation once warm) and writes it outside the lock while publishers keep appending.
/// A publisher that finds the buffer past its limit waits for the I/O thread (backpressure)
/// instead of growing memory without bound.
final class WriteBuffer: Sendable {
    struct State {
        var pending: [UInt8] = []
        /// The I/O thread is asleep (or about to be) with nothing to write: the next
        /// appender must wake it.
        var wakeNeeded = false
        /// Set once the connection is gone; appends then fail with it.
        var failure: NATSError?
        var outMessages: UInt64 = 0
        var outBytes: UInt64 = 0
    }

    let limit: Int
    let waitTimeout: Duration
    private let state: ConditionLock<State>
    private let notifier: EventNotifier
    /// The I/O thread never waits for room: only it makes room. A handler running on it
    /// may publish past the limit.
    let ioThread = Atomic<UInt>(0)

    init(limit: Int, waitTimeout: Duration, notifier: EventNotifier) {
        self.limit = limit
        self.waitTimeout = waitTimeout
        self.notifier = notifier
        var initial = State()
        initial.pending.reserveCapacity(64 * 1024)
        state = ConditionLock(initial)
    }

    /// Appends what `encode` writes. `messages` and `payloadBytes` feed the statistics.
    /// Blocks while the buffer is over its limit, at most `waitTimeout`.
    func append(
        messages: Int = 0, payloadBytes: Int = 0, _ encode: (inout [UInt8]) throws(NATSError) -> Void
    ) throws(NATSError) {
        let limit = self.limit
        let mayWait = IOThread.current != ioThread.load(ordering: .relaxed)
        let wake = try state.withLock(
            waitingWhile: { mayWait && $0.pending.count >= limit && $0.failure == nil }, timeout: waitTimeout
        ) { (s, timedOut) throws(NATSError) -> Bool in
            if let failure = s.failure { throw failure }
            if timedOut {
                throw NATSError(.timeout, "write buffer full (\(limit) bytes) for \(waitTimeout)")
            }
            try encode(&s.pending)
            s.outMessages &+= UInt64(messages)
            s.outBytes &+= UInt64(payloadBytes)
            let wake = s.wakeNeeded
            s.wakeNeeded = false
            return wake
        }
        if wake { notifier.signal() }
    }

    /// I/O thread: exchanges the filled buffer for `drained` (which must be written out).
    /// Returns `false` when there was nothing to take.
    func take(into drained: inout [UInt8]) -> Bool {
        state.withLock { s in
            guard !s.pending.isEmpty else { return false }
            drained.removeAll(keepingCapacity: true)
            swap(&drained, &s.pending)
            if drained.count >= limit { state.broadcast() }
            return true
        }
    }

    /// I/O thread: before sleeping, asks to be woken by the next append. `false` if there is
    /// already something to write.
    func prepareToSleep() -> Bool {
        state.withLock { s in
            if !s.pending.isEmpty { return false }
            s.wakeNeeded = true
            return true
        }
    }

    /// The I/O thread is awake anyway: appenders need not signal.
    func markAwake() {
        state.withLock { $0.wakeNeeded = false }
    }

    var isEmpty: Bool { state.withLock { $0.pending.isEmpty } }

    /// Fails this and every later append with `error`; wakes blocked publishers.
    func fail(_ error: NATSError) {
        state.withLock { s in
            if s.failure == nil { s.failure = error }
            s.pending.removeAll()
            state.broadcast()
        }
    }

    var counters: (messages: UInt64, bytes: UInt64) {
        state.withLock { ($0.outMessages, $0.outBytes) }
    }
}
