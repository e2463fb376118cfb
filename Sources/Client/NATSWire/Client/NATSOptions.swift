/// How a ``NATSClient`` connects and behaves. Defaults follow the reference clients.
public struct NATSOptions: Sendable {
    /// Server URLs, tried in order (`nats://host:port`, `tls://host`, `host:port`).
    public var servers: [String]
    /// The connection name the server shows in monitoring.
    public var name: String?
    /// Ask the server for `+OK` after every operation (slow; for debugging).
    public var verbose = false
    /// Ask the server for strict subject checking.
    public var pedantic = false
    /// Receive the messages this connection publishes itself on its own subscriptions.
    public var echo = true
    /// Credentials, when the URL carries none.
    public var user: String?
    /// The password for ``user``.
    public var password: String?
    /// An authentication token.
    public var token: String?
    /// An NKey seed (`SU…`): the client signs the server's nonce with it.
    public var nkeySeed: String?
    /// A credentials file (user JWT + NKey seed) for servers in operator mode. Read again
    /// on every connect, so rotated credentials are picked up on reconnect.
    public var credentialsFile: String?
    /// Credentials already loaded, instead of `credentialsFile`.
    public var credentials: NATSCredentials?
    /// TLS settings. When set, the client refuses to talk to a server without TLS; when
    /// `nil`, TLS is still used (verified against the system CAs) for `tls://` URLs and
    /// servers whose INFO says `tls_required`.
    public var tls: TLSOptions?
    /// How long a TCP connect plus handshake may take.
    public var connectTimeout: Duration = .seconds(2)
    /// Interval of keepalive PINGs.
    public var pingInterval: Duration = .seconds(120)
    /// Unanswered keepalive PINGs tolerated before the connection counts as stale.
    public var maxPingsOutstanding = 2
    /// Prefix of reply subjects for requests.
    public var inboxPrefix = "_INBOX"
    /// Bytes buffered for writing before publishers wait for the socket. Small keeps the
    /// data hot in cache and the server busy early; 256 KiB measured best here.
    public var writeBufferLimit = 256 * 1024
    /// How long a publisher waits for room in a full write buffer before failing.
    public var writeBufferTimeout: Duration = .seconds(10)
    /// Default bounds of a subscription's queue for a consumer that falls behind.
    public var pendingLimits = PendingLimits.default
    /// Whether and how a lost connection is re-established.
    public var reconnect = ReconnectPolicy.default
    /// Bytes of publishes kept while disconnected, sent after reconnecting (nats.go: 8 MiB).
    /// A publish that does not fit fails with kind `reconnectBufferFull`.
    public var reconnectBufferSize = 8 * 1024 * 1024
    /// Shuffle the server list, so the clients of a deployment spread over a cluster
    /// (ADR-40). Turn off to try the servers in the order given.
    public var randomizeServers = true
    /// Do not add the servers a cluster announces (INFO `connect_urls`) to the pool.
    public var ignoreDiscoveredServers = false
    /// How long `drain()` may take before the client closes anyway (nats.go: 30 s).
    public var drainTimeout: Duration = .seconds(30)

    /// Adds the caller's trace context (W3C `traceparent`) to every published message and
    /// request; `nil` (the default) adds nothing and costs nothing. See ``NATSTraceContext``.
    public var traceContextInjector: (any NATSTraceContextInjector)?

    /// How long the I/O thread keeps polling the socket, yielding the CPU between polls,
    /// before it sleeps: a reply that comes within it is read without a thread wake-up.
    ///
    /// Trades CPU for latency. Zero (the default) sleeps at once. With 200 µs, sequential
    /// requests through a local nats-server took about half as long here (p50 94–135 µs
    /// against 200–229 µs in three runs), together with ``NATSClient/ioExecutor``. The spin
    /// backs off while it finds nothing (traffic sparser than the window), so an idle
    /// connection costs next to nothing; but a container with a CPU quota pays for every spin.
    public var spinBeforeSleep: Duration = .zero

    /// Options for the servers `servers` and the defaults for everything else.
    public init(servers: [String] = ["nats://127.0.0.1:4222"]) {
        self.servers = servers
    }

    /// Options for one server URL.
    public init(url: String) {
        self.init(servers: [url])
    }
}
