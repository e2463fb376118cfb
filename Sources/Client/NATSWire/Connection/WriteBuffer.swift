import Synchronization

/// Outbound bytes between the publishing threads and the I/O thread.
///
/// Publishers append whole operations under a lock, so many small publishes coalesce into
/// one large write. The I/O thread swaps the filled buffer for its emptied one (no copy, no
/// allocation once warm) and writes it outside the lock while publishers keep appending.
/// A publisher that finds the buffer past its limit waits for the I/O thread (backpressure)
/// instead of growing memory without bound.
///
/// A latency-sensitive caller (a request) may write itself when the I/O thread is idle,
/// saving a thread wake-up; a writer token keeps writes in order.
final class WriteBuffer: Sendable {
    struct State {
        var pending = ByteBuffer()
        /// The I/O thread is asleep with nothing in flight: the next appender must wake it.
        var wakeNeeded = false
        /// A caller is writing directly; the I/O thread leaves `pending` alone meanwhile.
        var writerBusy = false
        /// An empty buffer to swap in while a direct writer holds the filled one.
        var spare: ByteBuffer?
        /// The live transport, when it may be written from another thread than the reader.
        var directTransport: (any Transport)?
        /// Set once the connection is gone; appends then fail with it.
        var failure: NATSError?
        /// Between a lost connection and the next one: appends are kept (the reconnect
        /// buffer) up to `reconnectLimit`, and never wait.
        var disconnected = false
        /// PINGs appended since the I/O thread last took the buffer: their PONG waiters are
        /// the newest ones, and survive a lost connection because their PING does.
        var pingsPending = 0
        var outMessages: UInt64 = 0
        var outBytes: UInt64 = 0
    }

    let limit: Int
    let waitTimeout: Duration
    /// What may be kept while disconnected.
    let reconnectLimit: Int
    private let state: ConditionLock<State>
    private let notifier: EventNotifier
    /// The I/O thread never waits for room: only it makes room. A handler running on it
    /// may publish past the limit.
    let ioThread = Atomic<UInt>(0)
    /// `pending.count` as of the last change, readable without the lock: the I/O thread
    /// watches it while it lingers for a stream of publishes to fill a larger write.
    let pendingBytes = Atomic<Int>(0)

    init(limit: Int, waitTimeout: Duration, reconnectLimit: Int = 8 << 20, notifier: EventNotifier) {
        self.limit = limit
        self.reconnectLimit = reconnectLimit
        self.waitTimeout = waitTimeout
        self.notifier = notifier
        state = ConditionLock(State())
    }

    /// Appends what `encode` writes. `messages` and `payloadBytes` feed the statistics.
    /// Blocks while the buffer is over its limit, at most `waitTimeout`. With `writeNow`,
    /// writes from this thread if the I/O thread is idle.
    func append(
        messages: Int = 0, payloadBytes: Int = 0, pings: Int = 0, writeNow: Bool = false,
        _ encode: (ByteBuffer) throws(NATSError) -> Void
    ) throws(NATSError) {
        let limit = self.limit
        let reconnectLimit = self.reconnectLimit
        enum After { case nothing, wake, write(ByteBuffer, any Transport) }
        let after = try state.withLock(
            waitingWhile: { s in
                s.pending.count >= limit && s.failure == nil && !s.disconnected
                    && IOThread.current != self.ioThread.load(ordering: .relaxed)
            },
            timeout: waitTimeout
        ) { (s, timedOut) throws(NATSError) -> After in
            if let failure = s.failure { throw failure }
            if timedOut {
                throw NATSError(.timeout, "write buffer full (\(limit) bytes) for \(waitTimeout)")
            }
            let before = s.pending.count
            try encode(s.pending)
            if s.disconnected && s.pending.count > reconnectLimit {
                s.pending.truncate(to: before)
                throw NATSError(
                    .reconnectBufferFull,
                    "disconnected, and the reconnect buffer (\(reconnectLimit) bytes) is full")
            }
            s.pingsPending += pings
            s.outMessages &+= UInt64(messages)
            s.outBytes &+= UInt64(payloadBytes)
            pendingBytes.store(s.pending.count, ordering: .relaxed)
            guard s.wakeNeeded else { return .nothing }
            if writeNow, !s.writerBusy, let transport = s.directTransport {
                s.writerBusy = true
                let bytes = s.pending
                s.pending = s.spare ?? ByteBuffer(capacity: 4096)
                s.spare = nil
                s.pingsPending = 0  // taken for writing, like the I/O thread's take
                pendingBytes.store(0, ordering: .relaxed)
                return .write(bytes, transport)
            }
            s.wakeNeeded = false
            return .wake
        }
        switch after {
        case .nothing: break
        case .wake: notifier.signal()
        case .write(let bytes, let transport): writeDirectly(bytes, to: transport)
        }
    }

    /// Writes `bytes` from the calling thread; what the socket does not take goes back to
    /// the front of the buffer for the I/O thread.
    private func writeDirectly(_ bytes: ByteBuffer, to transport: any Transport) {
        let written = (try? transport.write(bytes.bytes)) ?? 0
        let wake = state.withLock { s -> Bool in
            s.writerBusy = false
            if written < bytes.count {
                s.pending.prepend(UnsafeRawBufferPointer(rebasing: bytes.bytes[written...]))
                pendingBytes.store(s.pending.count, ordering: .relaxed)
            }
            bytes.clear()
            s.spare = bytes
            state.broadcast()  // a detaching I/O thread may be waiting for the token
            guard !s.pending.isEmpty, s.wakeNeeded else { return false }
            s.wakeNeeded = false
            return true
        }
        if wake { notifier.signal() }
    }

    /// I/O thread: exchanges the filled buffer for `drained` (which must be written out).
    /// Returns `false` when there is nothing to take, or a direct writer holds the token.
    func take(into drained: inout ByteBuffer) -> Bool {
        state.withLock { s in
            guard !s.pending.isEmpty, !s.writerBusy else { return false }
            drained.clear()
            swap(&drained, &s.pending)
            s.pingsPending = 0
            pendingBytes.store(0, ordering: .relaxed)
            if drained.count >= limit { state.broadcast() }
            return true
        }
    }

    /// I/O thread: before sleeping, asks to be woken by the next append. `false` if there is
    /// already something to write.
    func prepareToSleep() -> Bool {
        state.withLock { s in
            if !s.pending.isEmpty && !s.writerBusy { return false }
            s.wakeNeeded = true
            return true
        }
    }

    /// The I/O thread is awake anyway: appenders need not signal.
    func markAwake() {
        state.withLock { $0.wakeNeeded = false }
    }

    /// I/O thread: allows direct writes to `transport` (only for transports that allow a
    /// writer beside the reader).
    func attach(_ transport: any Transport) {
        state.withLock { $0.directTransport = transport.allowsConcurrentWrite ? transport : nil }
    }

    /// I/O thread: stops direct writes and waits for one in progress, before the transport
    /// is closed.
    func detach() {
        state.withLock(waitingWhile: { $0.writerBusy }, timeout: .seconds(30)) { s, _ in
            s.directTransport = nil
        }
    }

    var isEmpty: Bool { state.withLock { $0.pending.isEmpty } }

    /// The connection is lost: keeps what is buffered for the next one, lets publishers
    /// add up to ``reconnectLimit`` without waiting. Returns how many PINGs are still in
    /// the buffer (their PONG waiters are the newest and must not be failed).
    func suspend() -> Int {
        state.withLock { s in
            s.disconnected = true
            s.directTransport = nil
            state.broadcast()  // publishers waiting for room may now use the reconnect buffer
            return s.pingsPending
        }
    }

    /// A new connection is up: `prefix` (the subscriptions again) goes before what was
    /// buffered meanwhile.
    func resume(prefix: ByteBuffer) {
        state.withLock { s in
            if !prefix.isEmpty { s.pending.prepend(prefix.bytes) }
            s.disconnected = false
            pendingBytes.store(s.pending.count, ordering: .relaxed)
        }
    }

    /// Fails this and every later append with `error`; wakes blocked publishers.
    func fail(_ error: NATSError) {
        state.withLock { s in
            if s.failure == nil { s.failure = error }
            s.pending.clear(shrinkAbove: 0)
            pendingBytes.store(0, ordering: .relaxed)
            s.directTransport = nil
            state.broadcast()
        }
    }

    var counters: (messages: UInt64, bytes: UInt64) {
        state.withLock { ($0.outMessages, $0.outBytes) }
    }
}
