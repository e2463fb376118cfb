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
    let components: ConnectionComponents
    let state = Mutex(ConnectionStateMachine())
    let info: Mutex<ServerInfo?> = Mutex(nil)
    let maxPayload = Atomic<Int>(1_048_576)
    let terminationWaiters = Mutex<TerminationWaiters>(TerminationWaiters())
    private let eventListeners = Mutex<[UInt64: AsyncStream<NATSEvent>.Continuation]>([:])
    private let nextListenerID = Atomic<UInt64>(0)
    /// Finds a server to (re)connect to; holds the pool of known servers.
    let connector: Connector
    /// The server of the live connection.
    let currentAddress = Mutex<ServerAddress?>(nil)
    let reconnectCount = Atomic<UInt64>(0)
    /// Set by `drain()`: no new subscriptions or requests.
    let isDraining = Atomic<Bool>(false)

    struct TerminationWaiters {
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
        connector = Connector(
            pool: ServerPool(
                addresses: addresses, randomize: options.randomizeServers,
                maxAttemptsPerServer: options.reconnect.maxAttemptsPerServer),
            policy: options.reconnect)
        let notifier = try EventNotifier()
        components = ConnectionComponents(
            writeBuffer: WriteBuffer(
                limit: options.writeBufferLimit, waitTimeout: options.writeBufferTimeout,
                reconnectLimit: options.reconnectBufferSize, notifier: notifier),
            notifier: notifier,
            registry: SubscriptionRegistry(),
            mux: RequestMux(inboxPrefix: options.inboxPrefix, wake: { notifier.signal() }),
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

    /// The servers this client may reconnect to: the configured ones still in the pool and
    /// those the cluster announced.
    public var knownServers: [String] { connector.pool.withLock { $0.addresses.map(\.description) } }

    /// The INFO of the server this client is connected to.
    public var serverInfo: ServerInfo? { info.withLock { $0 } }

    /// Traffic counters.
    public var statistics: NATSStatistics {
        let out = components.writeBuffer.counters
        return NATSStatistics(
            inMessages: components.counters.messages.load(ordering: .relaxed),
            inBytes: components.counters.bytes.load(ordering: .relaxed),
            outMessages: out.messages, outBytes: out.bytes,
            reconnects: reconnectCount.load(ordering: .relaxed),
            serverPings: components.counters.serverPings.load(ordering: .relaxed),
            droppedMessages: components.counters.dropped.load(ordering: .relaxed),
            pendingBytes: UInt64(max(0, components.writeBuffer.pendingBytes.load(ordering: .relaxed))))
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

    /// Ends every event stream (after `.closed`).
    func finishEventStreams() {
        let listeners = eventListeners.withLock { listeners in
            defer { listeners.removeAll() }
            return Array(listeners.values)
        }
        for listener in listeners { listener.finish() }
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

    /// A task executor on this client's I/O thread.
    ///
    /// A task that prefers it (`Task(executorPreference: nats.ioExecutor)`,
    /// `withTaskExecutorPreference`) is resumed by a reply on the thread that read the reply,
    /// so a request costs one thread wake-up less. With ``NATSOptions/spinBeforeSleep`` the
    /// thread does not sleep between a request and its reply either: a loop of sequential
    /// requests through a local server took half as long here. The thread also reads and writes the
    /// connection, so the work run here must be short and must not block; spread CPU-heavy
    /// work over the global executor instead. Jobs wait while a reconnect attempt dials;
    /// after the client is closed they run on the global concurrent executor.
    public var ioExecutor: any TaskExecutor { components.executor }

    /// Why the connection closed, when it was not `close()`.
    public var closeReason: NATSError? { state.withLock { $0.closeReason } }

    var currentMaxPayload: Int { maxPayload.load(ordering: .relaxed) }
}
