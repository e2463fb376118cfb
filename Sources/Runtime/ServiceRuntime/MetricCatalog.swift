/// Every metric the system exports: its Prometheus name and help text, in one place. Code
/// records with these names; ``ProcessMetrics`` renders the help from here (swift-metrics
/// carries none), so `promtool check metrics` finds every family described.
public enum MetricCatalog {
    // MARK: Every process: its NATS connection and itself
    public static let natsReconnects = "nats_client_reconnects_total"
    public static let natsInMessages = "nats_client_in_messages_total"
    public static let natsOutMessages = "nats_client_out_messages_total"
    public static let natsInBytes = "nats_client_in_bytes_total"
    public static let natsOutBytes = "nats_client_out_bytes_total"
    public static let natsDropped = "nats_client_dropped_messages_total"
    public static let natsPendingBytes = "nats_client_pending_bytes"
    public static let natsConnected = "nats_client_connected"
    public static let processResident = "process_resident_memory_bytes"
    public static let processCPU = "process_cpu_seconds_total"
    public static let processThreads = "process_threads"

    // MARK: Service endpoints
    public static let serviceRequests = "service_requests_total"
    public static let serviceErrors = "service_request_errors_total"
    public static let serviceDuration = "service_request_duration_seconds"
    public static let serviceInFlight = "service_requests_in_flight"

    // MARK: Database pools
    public static let poolSize = "db_pool_connections_max"
    public static let poolOpen = "db_pool_connections_open"
    public static let poolBusy = "db_pool_connections_busy"
    public static let poolWaiting = "db_pool_waiting"
    public static let poolConnectErrors = "db_pool_connect_errors_total"

    // MARK: AuthService
    public static let bcryptQueue = "auth_bcrypt_queue_length"
    public static let bcryptRefused = "auth_bcrypt_refused_total"

    // MARK: Gateway
    public static let httpRequests = "http_server_requests_total"
    public static let httpErrors = "http_server_request_errors_total"
    public static let httpDuration = "http_server_request_duration_seconds"
    public static let httpActive = "http_server_active_requests"
    public static let gatewayNATSErrors = "gateway_nats_request_errors_total"
    public static let gatewayRetries = "gateway_nats_request_retries_total"
    public static let tokenCacheHits = "gateway_token_cache_hits_total"
    public static let tokenCacheMisses = "gateway_token_cache_misses_total"
    public static let servicesAnswered = "gateway_metrics_instances_answered"

    // Tracing (when on)
    public static let spansExported = "tracing_spans_exported_total"
    public static let spansDropped = "tracing_spans_dropped_total"
    public static let exportFailures = "tracing_export_failures_total"

    /// Help text by name.
    public static let help: [String: String] = [
        natsReconnects: "Reconnections to a NATS server since the process started.",
        natsInMessages: "Messages received from NATS.",
        natsOutMessages: "Messages published to NATS.",
        natsInBytes: "Payload and header bytes received from NATS.",
        natsOutBytes: "Payload and header bytes published to NATS.",
        natsDropped: "Messages dropped because a subscriber fell behind its pending limits (slow consumer).",
        natsPendingBytes: "Bytes published and not yet written to the NATS connection.",
        natsConnected: "1 while connected to a NATS server, else 0.",
        processResident: "Resident memory of the process.",
        processCPU: "User and system CPU time the process used.",
        processThreads: "Threads of the process.",
        serviceRequests: "Requests an endpoint handled, answered or failed.",
        serviceErrors: "Requests an endpoint answered with an error, by the error's code.",
        serviceDuration: "Time an endpoint took to handle a request, from its arrival to its reply.",
        serviceInFlight: "Requests an endpoint is handling now.",
        poolSize: "Connections the database pool may open.",
        poolOpen: "Connections the database pool has open.",
        poolBusy: "Pool connections working on a statement (PostgreSQL) or call (MongoDB) now.",
        poolWaiting:
            "Statements queued behind another on a pipelined connection (PostgreSQL), or calls waiting for a thread (MongoDB).",
        poolConnectErrors: "Attempts to connect to the database that failed.",
        bcryptQueue: "Password hashes and checks waiting for or running on a bcrypt thread.",
        bcryptRefused:
            "Logins and registrations refused at once because bcrypt could not start them in time.",
        httpRequests: "HTTP requests by route, method and status.",
        httpErrors: "HTTP requests that ended in a thrown error, by route, method and status.",
        httpDuration: "HTTP request latency by route, method and status.",
        httpActive: "HTTP requests being handled now.",
        gatewayNATSErrors: "NATS requests from the gateway that failed, by kind.",
        gatewayRetries: "Idempotent NATS requests the gateway sent a second time.",
        tokenCacheHits: "Bearer tokens found already verified in the cache.",
        tokenCacheMisses: "Bearer tokens verified afresh (not in the cache, or expired there).",
        servicesAnswered: "Service instances that answered the gateway's metrics request, by service.",
        spansExported: "Spans the trace collector accepted.",
        spansDropped: "Spans dropped because the export queue was full (the collector slow or gone).",
        exportFailures: "Batches of spans the collector refused or could not be sent to after retries.",
    ]

    /// Names swift-metrics users elsewhere (Hummingbird's `MetricsMiddleware`) record under,
    /// renamed to Prometheus conventions (a counter ends in `_total`, a duration in
    /// `_seconds`).
    static let renamed: [String: String] = [
        "hb.requests": httpRequests,
        "hb.request.errors": httpErrors,
        "http.server.request.duration": httpDuration,
        "http.server.active_requests": httpActive,
    ]

    /// Prometheus names allow `[a-zA-Z0-9_:]`, label names `[a-zA-Z0-9_]`: anything else
    /// (the dots of OpenTelemetry-style names) becomes `_`.
    @Sendable public static func sanitize(_ name: String, _ labels: [(String, String)]) -> (
        String, [(String, String)]
    ) {
        (renamed[name] ?? underscored(name), labels.map { (underscored($0.0), $0.1) })
    }

    private static func underscored(_ name: String) -> String {
        guard !name.unicodeScalars.allSatisfy(isNameCharacter) else { return name }
        return String(String.UnicodeScalarView(name.unicodeScalars.map { isNameCharacter($0) ? $0 : "_" }))
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_": true
        default: false
        }
    }

    /// Buckets for durations: services answer in 100 µs to a few ms, so finer than
    /// swift-prometheus's default (5 ms up).
    static let fineDurations: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    static let durationBuckets: [String: [Duration]] = [
        serviceDuration: fineDurations, httpDuration: fineDurations,
    ]
}
