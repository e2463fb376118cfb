import Synchronization

/// A connection to a NATS server: publish, subscribe, request–reply.
///
/// ```swift
/// let nats = try await NATSClient.connect(NATSOptions(url: "nats://127.0.0.1:4222"))
/// let subscription = try nats.subscribe(to: "greet.*")
/// try nats.publish("hello", to: "greet.joe")
/// for try await message in subscription { print(message.string) }
/// ```
///
/// Socket I/O runs on one dedicated thread per client, never on Swift's cooperative pool.
/// `publish` appends to a write buffer and returns; many publishes are coalesced into few
/// writes. `flush()` waits until the server has processed everything sent before it.
public final class NATSClient: Sendable {
    /// The library version sent in CONNECT.
    public static let version = "0.1.0"

    let options: NATSOptions
    let addresses: [ServerAddress]
    let components: ConnectionComponents
    private let state = Mutex(ConnectionStateMachine())
    private let info: Mutex<ServerInfo?> = Mutex(nil)
    private let maxPayload = Atomic<Int>(1_048_576)
    private let terminationWaiters = Mutex<TerminationWaiters>(TerminationWaiters())
    private let eventListeners = Mutex<[UInt64: AsyncStream<NATSEvent>.Continuation]>([:])
    private let nextListenerID = Atomic<UInt64>(0)

    private struct TerminationWaiters {
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private init(options: NATSOptions) throws(NATSError) {
        guard !options.servers.isEmpty else { throw NATSError(.invalidArgument, "no server URL given") }
        guard Subject.isValidPublish(options.inboxPrefix) else {
            throw NATSError(
                .invalidArgument,
                "inbox prefix \(options.inboxPrefix.debugDescription) is not a valid subject")
        }
        self.options = options
        var addresses: [ServerAddress] = []
        for url in options.servers { addresses.append(try ServerAddress(parsing: url)) }
        self.addresses = addresses
        let notifier = try EventNotifier()
        components = ConnectionComponents(
            writeBuffer: WriteBuffer(
                limit: options.writeBufferLimit, waitTimeout: options.writeBufferTimeout, notifier: notifier),
            notifier: notifier,
            registry: SubscriptionRegistry(),
            mux: RequestMux(inboxPrefix: options.inboxPrefix),
            pongs: PongQueue(),
            counters: InboundCounters())
    }

    /// Connects to the first server of `options.servers` that completes the handshake.
    ///
    /// Throws ``NATSError`` of kind `connectionFailed` (nothing reachable, handshake `-ERR`)
    /// or `authorizationViolation` (credentials refused), with the server's text.
    public static func connect(_ options: NATSOptions) async throws(NATSError) -> NATSClient {
        let client = try NATSClient(options: options)
        try await client.start()
        return client
    }

    /// Connects to one server URL with default options.
    public static func connect(url: String) async throws(NATSError) -> NATSClient {
        try await connect(NATSOptions(url: url))
    }

    // MARK: - State

    /// The connection's current state.
    public var status: ConnectionStatus { state.withLock { $0.status } }

    /// The INFO of the server this client is connected to.
    public var serverInfo: ServerInfo? { info.withLock { $0 } }

    /// Traffic counters.
    public var statistics: NATSStatistics {
        let out = components.writeBuffer.counters
        return NATSStatistics(
            inMessages: components.counters.messages.load(ordering: .relaxed),
            inBytes: components.counters.bytes.load(ordering: .relaxed),
            outMessages: out.messages, outBytes: out.bytes, reconnects: 0)
    }

    /// A new stream of this connection's events. Each call gets its own stream.
    public func events() -> AsyncStream<NATSEvent> {
        let id = nextListenerID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<NATSEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let alreadyClosed = state.withLock { $0.status == .closed }
        if alreadyClosed {
            continuation.finish()
            return stream
        }
        eventListeners.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.eventListeners.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    func emit(_ event: NATSEvent) {
        let listeners = eventListeners.withLock { Array($0.values) }
        for listener in listeners { listener.yield(event) }
    }

    // MARK: - Lifecycle

    private func start() async throws(NATSError) {
        let result: Result<Void, NATSError> = await withCheckedContinuation { continuation in
            do throws(NATSError) {
                try IOThread.start(name: "natswire-io") { [self] in
                    self.runConnection(onFirstConnect: continuation)
                }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        try result.get()
    }

    /// The I/O thread's whole life: connect, run the protocol loop, tear down.
    private func runConnection(onFirstConnect: CheckedContinuation<Result<Void, NATSError>, Never>) {
        components.writeBuffer.ioThread.store(IOThread.current, ordering: .relaxed)
        let connection: (any Transport, ProtocolParser, ServerAddress)
        do {
            connection = try connectToAnyServer()
        } catch {
            finish(reason: error)
            onFirstConnect.resume(returning: .failure(error))
            return
        }
        let (transport, parser, address) = connection
        guard state.withLock({ $0.connected() }) else {
            transport.close()
            finish(reason: nil)
            onFirstConnect.resume(returning: .failure(NATSError(.closed, "closed while connecting")))
            return
        }
        emit(.connected(server: address.description))
        onFirstConnect.resume(returning: .success(()))

        let loop = ConnectionLoop(
            transport: transport, parser: parser, components: components,
            pingInterval: options.pingInterval, maxPingsOutstanding: options.maxPingsOutstanding,
            onInfo: { [self] in self.received($0) },
            onServerError: { [self] in self.receivedServerError($0) })
        let exit = loop.run()
        loop.closeTransport()
        switch exit {
        case .stopped:
            finish(reason: nil)
        case .failed(let error):
            state.withLock { $0.disconnected(willReconnect: false) }
            emit(.disconnected(reason: error))
            finish(reason: error)
        }
    }

    private func connectToAnyServer() throws(NATSError) -> (any Transport, ProtocolParser, ServerAddress) {
        var lastError = NATSError(.connectionFailed, "no server")
        for address in addresses {
            let deadline = Deadline.after(options.connectTimeout)
            do {
                let socket = try TCPSocket.connect(host: address.host, port: address.port, deadline: deadline)
                let parser = ProtocolParser()
                let handshake = Handshake(options: options, address: address, deadline: deadline)
                let info = try handshake.run(transport: socket, parser: parser)
                received(info)
                return (socket, parser, address)
            } catch {
                if error.kind == .authorizationViolation { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    private func received(_ newInfo: ServerInfo) {
        let previous = info.withLock { current in
            defer { current = newInfo }
            return current
        }
        maxPayload.store(newInfo.maxPayload, ordering: .relaxed)
        if newInfo.lameDuckMode && previous?.lameDuckMode != true { emit(.lameDuckMode) }
        if !newInfo.connectURLs.isEmpty && newInfo.connectURLs != previous?.connectURLs {
            emit(.discoveredServers(newInfo.connectURLs))
        }
    }

    private func receivedServerError(_ error: NATSError) {
        if error.kind == .permissionsViolation, let subject = Self.quotedSubject(in: error.message),
            error.message.lowercased().contains("subscription")
        {
            // The server refused a SUB: end that subscription with the server's reason.
            for entry in components.registry.entries(subject: subject) {
                components.registry.remove(entry.sid)
                if case .queue(let queue) = entry.sink { queue.finish(error) }
            }
        }
        emit(.serverError(error))
    }

    /// The subject in `Permissions Violation for Subscription to "foo"`.
    static func quotedSubject(in text: String) -> String? {
        guard let open = text.firstIndex(of: "\""),
            let close = text[text.index(after: open)...].firstIndex(of: "\"")
        else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    /// Tears everything down once; wakes `close()` callers.
    private func finish(reason: NATSError?) {
        let failure = reason ?? NATSError(.closed, "the connection was closed")
        components.writeBuffer.fail(failure)
        components.pongs.fail(failure)
        components.mux.failAll(failure, permanently: true)
        for entry in components.registry.removeAll() {
            if case .queue(let queue) = entry.sink { queue.finish(reason) }
        }
        state.withLock { $0.closed(reason: reason) }
        emit(.closed(reason: reason))
        let listeners = eventListeners.withLock { listeners in
            defer { listeners.removeAll() }
            return Array(listeners.values)
        }
        for listener in listeners { listener.finish() }
        let waiters = terminationWaiters.withLock { t in
            t.finished = true
            defer { t.waiters.removeAll() }
            return t.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Writes what is buffered, unsubscribes everything and closes the connection. Pending
    /// requests and flushes fail with kind `closed`; subscriptions end.
    public func close() async {
        let first = state.withLock { $0.closeRequested() }
        if first {
            components.stopRequested.store(true, ordering: .releasing)
            components.notifier.signal()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = terminationWaiters.withLock { t -> Bool in
                if t.finished { return true }
                t.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Why the connection closed, when it was not `close()`.
    public var closeReason: NATSError? { state.withLock { $0.closeReason } }

    var currentMaxPayload: Int { maxPayload.load(ordering: .relaxed) }
}
