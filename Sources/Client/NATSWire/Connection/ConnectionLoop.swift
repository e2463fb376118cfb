import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What the I/O loop shares with the client: all thread-safe.
final class ConnectionComponents: Sendable {
    let writeBuffer: WriteBuffer
    let notifier: EventNotifier
    let registry: SubscriptionRegistry
    let mux: RequestMux
    let pongs: PongQueue
    let counters: InboundCounters
    /// Tasks that prefer to run on the I/O thread.
    let executor: IOThreadExecutor
    /// Set by `close()`: flush what is buffered, then end the loop.
    let stopRequested = Atomic<Bool>(false)
    /// Set when the server enters lame duck mode and another server is known: finish the
    /// write in progress, then end the loop so the owner moves to another server.
    let migrateRequested = Atomic<Bool>(false)

    init(
        writeBuffer: WriteBuffer, notifier: EventNotifier, registry: SubscriptionRegistry, mux: RequestMux,
        pongs: PongQueue, counters: InboundCounters
    ) {
        self.writeBuffer = writeBuffer
        self.notifier = notifier
        self.registry = registry
        self.mux = mux
        self.pongs = pongs
        self.counters = counters
        executor = IOThreadExecutor(notifier: notifier)
    }
}

/// Inbound traffic counters, written by the I/O thread only.
final class InboundCounters: Sendable {
    let messages = Atomic<UInt64>(0)
    /// The server's keepalive PINGs, each answered with a PONG.
    let serverPings = Atomic<UInt64>(0)
    let bytes = Atomic<UInt64>(0)
    /// Messages dropped by slow consumers.
    let dropped = Atomic<UInt64>(0)
}

/// The protocol loop of one live transport, on its own thread: `poll` on the socket and
/// on the wake-up notifier; read and parse, route messages, answer PINGs; write what
/// publishers buffered; time out requests; send keepalive PINGs.
///
/// It knows nothing of reconnecting: it returns why it ended and its owner decides.
final class ConnectionLoop {
    enum Exit {
        /// The owner asked to stop and everything buffered was written.
        case stopped
        /// The transport is gone or unusable.
        case failed(NATSError)
        /// The server is going away (lame duck): the owner should move elsewhere. What is
        /// still buffered stays for the next connection.
        case migrating
    }

    private let transport: any Transport
    private let parser: ProtocolParser
    private let components: ConnectionComponents
    private let pingInterval: Duration
    private let maxPingsOutstanding: Int
    private let onInfo: (ServerInfo) -> Void
    private let onServerError: (NATSError) -> Void
    private let onSlowConsumer: (SubscriptionRegistry.Entry) -> Void

    private var idleSpin: IdleSpin
    private var outgoing = ByteBuffer()
    private var outgoingOffset = 0

    init(
        transport: any Transport, parser: ProtocolParser, components: ConnectionComponents,
        pingInterval: Duration, maxPingsOutstanding: Int, spinBeforeSleep: Duration = .zero,
        onInfo: @escaping (ServerInfo) -> Void, onServerError: @escaping (NATSError) -> Void,
        onSlowConsumer: @escaping (SubscriptionRegistry.Entry) -> Void
    ) {
        self.onSlowConsumer = onSlowConsumer
        idleSpin = IdleSpin(window: spinBeforeSleep)
        self.transport = transport
        self.parser = parser
        self.components = components
        self.pingInterval = pingInterval
        self.maxPingsOutstanding = maxPingsOutstanding
        self.onInfo = onInfo
        self.onServerError = onServerError
    }

    func run() -> Exit {
        components.writeBuffer.attach(transport)
        defer { components.writeBuffer.detach() }
        do {
            try processBufferedOperations()
            return try loop()
        } catch {
            return .failed(error)
        }
    }

    private func loop() throws(NATSError) -> Exit {
        let socketFD = transport.fileDescriptor
        var fds = [
            pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: components.notifier.fileDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        var nextPing = Deadline.now.adding(pingInterval)
        // Publishes are streaming in: the buffer refilled while it was being written, or the
        // last linger found more. Cleared when a linger finds nothing.
        var streaming = false
        while true {
            components.executor.runJobs()
            let takes = try writePending()
            if takes >= 2 { streaming = true }
            let stopping = components.stopRequested.load(ordering: .acquiring)
            let hasOutgoing = outgoingOffset < outgoing.count
            if stopping && !hasOutgoing && components.writeBuffer.isEmpty { return .stopped }
            if !hasOutgoing && components.migrateRequested.load(ordering: .acquiring) { return .migrating }

            guard let wakeAt = try tick(.now, nextPing: &nextPing) else { continue }  // write the PING

            var asleep = false
            if !hasOutgoing && !stopping {
                if streaming {
                    streaming = lingerForMore(socket: &fds[0])
                    if streaming { continue }
                }
                asleep = components.writeBuffer.prepareToSleep()
                if !asleep { continue }  // something was appended meanwhile
            }
            guard components.executor.prepareToSleep() else {  // a task is ready to run
                if asleep { components.writeBuffer.markAwake() }
                continue
            }
            fds[0].events = Int16(POLLIN) | (hasOutgoing ? Int16(POLLOUT) : 0)
            fds[0].revents = 0
            fds[1].revents = 0
            var timeout = transport.hasBufferedInput ? 0 : Int32(clamping: wakeAt.remainingMilliseconds)
            if timeout != 0 && idleSpin.shouldSpin() {
                let found = spinUntilReady(&fds)
                idleSpin.record(found: found)
                if found { timeout = 0 }
            }
            let ready = poll(&fds, 2, timeout)
            if asleep { components.writeBuffer.markAwake() }
            components.executor.markAwake()
            if ready < 0 {
                if errno == EINTR { continue }
                throw NATSError(.connectionClosed, "poll: \(errnoText())")
            }
            if fds[1].revents != 0 { components.notifier.drain() }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 || transport.hasBufferedInput {
                try readAvailable()
            }
        }
    }

    /// The loop's timers at `now`, in one place: a keepalive PING when one is due (then `nil`:
    /// write it before sleeping), requests past their deadline failed. Returns when the loop
    /// must wake next.
    private func tick(_ now: Deadline, nextPing: inout Deadline) throws(NATSError) -> Deadline? {
        if now >= nextPing {
            try sendKeepalive()
            nextPing = now.adding(pingInterval)
            return nil
        }
        return min(nextPing, components.mux.expire(now: now))
    }

    // MARK: - Writing

    /// Writes buffered operations until done or the socket is full; returns how many
    /// buffers it took from the publishers.
    @discardableResult
    private func writePending() throws(NATSError) -> Int {
        var takes = 0
        while true {
            if outgoingOffset == outgoing.count {
                guard components.writeBuffer.take(into: &outgoing) else { return takes }
                outgoingOffset = 0
                takes += 1
            }
            let start = outgoingOffset
            let written = try transport.write(UnsafeRawBufferPointer(rebasing: outgoing.bytes[start...]))
            if written == 0 { return takes }
            outgoingOffset += written
        }
    }

    /// Polls without sleeping, yielding the CPU between polls, for at most the spin window:
    /// `true` when something became ready meanwhile.
    private func spinUntilReady(_ fds: inout [pollfd]) -> Bool {
        let end = Deadline.now.adding(idleSpin.window)
        repeat {
            if poll(&fds, 2, 0) != 0 { return true }
            sched_yield()
        } while Deadline.now < end
        return false
    }

    /// How long the I/O thread waits for a stream to fill a larger write before sleeping.
    static let linger = Duration.microseconds(50)
    /// Enough to write at once.
    static let lingerTarget = 16 * 1024

    /// While publishes stream in, waits briefly (yielding the CPU, at most ``linger``) for
    /// them to fill the next write instead of sleeping at once. The stream then goes out in
    /// fewer, larger writes, and the publishers need not wake this thread (an `eventfd`
    /// write and two context switches) every few kilobytes: for 16-byte publishes that took
    /// the client's CPU from 0.73 to 0.40 s per 5 M messages. Input that arrives ends the
    /// wait. `true` if there is something to write.
    private func lingerForMore(socket: inout pollfd) -> Bool {
        let buffer = components.writeBuffer
        let end = Deadline.now.adding(Self.linger)
        while buffer.pendingBytes.load(ordering: .relaxed) < Self.lingerTarget && Deadline.now < end {
            sched_yield()
            socket.events = Int16(POLLIN)
            socket.revents = 0
            if transport.hasBufferedInput || poll(&socket, 1, 0) > 0 { break }
        }
        return buffer.pendingBytes.load(ordering: .relaxed) > 0
    }

    private func sendKeepalive() throws(NATSError) {
        if components.pongs.outstandingKeepalives >= maxPingsOutstanding {
            throw NATSError(.staleConnection, "no PONG for \(maxPingsOutstanding) keepalive PINGs")
        }
        let pongs = components.pongs
        try components.writeBuffer.append(pings: 1) { out in
            out.append(contentsOf: ClientOperation.ping)
            pongs.push(.keepalive)
        }
    }

    // MARK: - Reading

    /// Reads until the socket has nothing more (bounded, so writes get their turn).
    private func readAvailable() throws(NATSError) {
        for _ in 0..<16 {
            switch try parser.read(from: transport) {
            case .bytes:
                try processBufferedOperations()
            case .wouldBlock:
                return
            case .endOfStream:
                throw NATSError(.connectionClosed, "the server closed the connection")
            }
        }
    }

    private func processBufferedOperations() throws(NATSError) {
        var messages: UInt64 = 0
        var bytes: UInt64 = 0
        defer {
            if messages > 0 {
                components.counters.messages.add(messages, ordering: .relaxed)
                components.counters.bytes.add(bytes, ordering: .relaxed)
            }
        }
        while true {
            let operation: ServerOperation?
            do {
                operation = try parser.next()
            } catch {
                throw NATSError(.protocolViolation, error.reason)
            }
            guard let operation else { return }
            switch operation {
            case .message(let sid, let message):
                messages &+= 1
                bytes &+= UInt64(message.payload.count)
                deliver(message, sid: sid)
            case .ping:
                try components.writeBuffer.append { $0.append(contentsOf: ClientOperation.pong) }
                components.counters.serverPings.add(1, ordering: .relaxed)
            case .pong:
                components.pongs.pong()
            case .ok:
                break
            case .info(let info):
                onInfo(info)
            case .error(let text):
                let error = NATSError.fromServer(text)
                // The server closes the connection after such an error; do not wait for it.
                if NATSError.serverClosesConnection(after: text) { throw error }
                onServerError(error)
            }
        }
    }

    private func deliver(_ message: NATSMessage, sid: UInt64) {
        guard let (entry, isLast) = components.registry.route(sid) else { return }
        switch entry.sink {
        case .queue(let queue):
            switch queue.push(message) {
            case .droppedFirst:
                components.counters.dropped.add(1, ordering: .relaxed)
                onSlowConsumer(entry)
            case .dropped: components.counters.dropped.add(1, ordering: .relaxed)
            case .queued, .closed: break
            }
            if isLast { queue.finish() }
        case .handler(let handler):
            handler(message)
        }
    }

    /// Closes the transport; the loop must not run again.
    func closeTransport() { transport.close() }
}
