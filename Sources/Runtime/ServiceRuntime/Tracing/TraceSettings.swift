import NATSWire

/// Tracing, configured by OpenTelemetry's standard variables. Off unless
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
public struct TraceSettings: Sendable {
    /// Where spans go; `nil`: tracing is off.
    var endpoint: TraceEndpoint?
    var serviceName: String?
    var resourceAttributes: [(String, String)]
    var sampler: TraceSampler
    var headers: [(String, String)]
    var exportTimeout: Duration
    var scheduleDelayMilliseconds: Int
    var maxQueueSize: Int
    var maxExportBatchSize: Int

    /// Whether spans are recorded and exported.
    public var enabled: Bool { endpoint != nil }

    /// OpenTelemetry's variables this runtime reads (every process takes them).
    public static let variables: [ConfigVariable] = [
        ConfigVariable(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            help:
                "OTLP/HTTP collector base URL (http:// or https://); spans go to <url>/v1/traces; unset: tracing off"
        ),
        ConfigVariable(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            help: "OTLP/HTTP traces URL, used as it is (overrides the above)"),
        ConfigVariable(
            "OTEL_EXPORTER_OTLP_PROTOCOL", help: "http/protobuf (the one supported)", default: "http/protobuf"
        ),
        ConfigVariable(
            "OTEL_EXPORTER_OTLP_HEADERS", help: "extra request headers: key=value,key2=value2", secret: true),
        ConfigVariable(
            "OTEL_EXPORTER_OTLP_TIMEOUT", help: "milliseconds one export may take", default: "10000"),
        ConfigVariable("OTEL_EXPORTER_OTLP_CERTIFICATE", help: "CA file for an https:// collector"),
        ConfigVariable("OTEL_SERVICE_NAME", help: "service.name of the spans (default: the process's name)"),
        ConfigVariable("OTEL_RESOURCE_ATTRIBUTES", help: "more resource attributes: key=value,key2=value2"),
        ConfigVariable(
            "OTEL_TRACES_SAMPLER",
            help:
                "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
            default: "parentbased_always_on"),
        ConfigVariable(
            "OTEL_TRACES_SAMPLER_ARG", help: "the ratio of the *traceidratio samplers", default: "1.0"),
        ConfigVariable("OTEL_BSP_SCHEDULE_DELAY", help: "milliseconds between exports", default: "5000"),
        ConfigVariable(
            "OTEL_BSP_MAX_QUEUE_SIZE", help: "spans waiting at most (more are dropped)", default: "2048"),
        ConfigVariable("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", help: "spans per export at most", default: "512"),
        ConfigVariable("OTEL_SDK_DISABLED", help: "true: no tracing even with an endpoint", default: "false"),
    ]

    /// Reads the variables; problems (a bad URL, an unsupported protocol) go to `reader`.
    public init(_ reader: SettingsReader) {
        let disabled = reader.bool("OTEL_SDK_DISABLED", default: false)
        // OTLP over gRPC or HTTP/JSON is refused at start rather than sent where it fails.
        _ = reader.oneOf("OTEL_EXPORTER_OTLP_PROTOCOL", ["http/protobuf"], default: "http/protobuf")
        var endpoint: TraceEndpoint?
        if let traces = reader.string("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), !traces.isEmpty {
            endpoint = TraceEndpoint(url: traces, appendingPath: nil)
            if endpoint == nil {
                reader.problem("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: not an http(s) URL: \(traces)")
            }
        } else if let base = reader.string("OTEL_EXPORTER_OTLP_ENDPOINT"), !base.isEmpty {
            endpoint = TraceEndpoint(url: base, appendingPath: "v1/traces")
            if endpoint == nil { reader.problem("OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL: \(base)") }
        }
        if let ca = reader.string("OTEL_EXPORTER_OTLP_CERTIFICATE"), endpoint?.tls != nil {
            endpoint?.tls?.caFile = ca
        }
        self.endpoint = disabled ? nil : endpoint
        serviceName = reader.string("OTEL_SERVICE_NAME")
        resourceAttributes = Self.pairs(reader.string("OTEL_RESOURCE_ATTRIBUTES") ?? "")
        headers = Self.pairs(reader.string("OTEL_EXPORTER_OTLP_HEADERS") ?? "")
        exportTimeout = .milliseconds(
            reader.int("OTEL_EXPORTER_OTLP_TIMEOUT", default: 10_000, range: 1...600_000))
        scheduleDelayMilliseconds = reader.int("OTEL_BSP_SCHEDULE_DELAY", default: 5000, range: 1...3_600_000)
        maxQueueSize = reader.int("OTEL_BSP_MAX_QUEUE_SIZE", default: 2048, range: 1...1_000_000)
        maxExportBatchSize = min(
            maxQueueSize, reader.int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default: 512, range: 1...1_000_000))
        let samplerName = reader.oneOf(
            "OTEL_TRACES_SAMPLER",
            [
                "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
                "parentbased_traceidratio",
            ], default: "parentbased_always_on")
        var ratio = 1.0
        if samplerName.hasSuffix("traceidratio") {
            let text = reader.string("OTEL_TRACES_SAMPLER_ARG", default: "1.0") ?? "1.0"
            if let value = Double(text), (0...1).contains(value) {
                ratio = value
            } else {
                reader.problem("OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1, not \(text)")
            }
        }
        let root: TraceSampler.Root =
            samplerName.hasSuffix("always_off")
            ? .never : samplerName.hasSuffix("traceidratio") ? .ratio(ratio) : .always
        sampler = TraceSampler(root: root, followsParent: samplerName.hasPrefix("parentbased_"))
    }

    /// `key=value,key2=value2`, with the values' `%XX` escapes decoded (W3C Baggage style, as
    /// the OpenTelemetry specification defines both variables).
    static func pairs(_ text: String) -> [(String, String)] {
        text.split(separator: ",").compactMap { item in
            guard let equals = item.firstIndex(of: "=") else { return nil }
            let key = String(item[..<equals].trimmedSpaces)
            let value = ServerAddress.percentDecoded(item[item.index(after: equals)...].trimmedSpaces)
            return key.isEmpty ? nil : (key, value)
        }
    }
}

/// An OTLP/HTTP URL taken apart: host, port, path and TLS.
struct TraceEndpoint: Sendable, Equatable {
    var host: String
    var port: Int
    var path: String
    var tls: TLSOptions?

    /// The `Host` header: the host, with the port unless it is the scheme's default.
    var hostHeader: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return port == (tls == nil ? 80 : 443) ? shown : "\(shown):\(port)"
    }

    /// Parses `http(s)://host[:port][/path]`; with `appendingPath`, that is added to the path
    /// (the base-URL form of `OTEL_EXPORTER_OTLP_ENDPOINT`).
    init?(url: String, appendingPath: String?) {
        let secure: Bool
        var rest: Substring
        if url.hasPrefix("http://") {
            secure = false
            rest = url.dropFirst(7)
        } else if url.hasPrefix("https://") {
            secure = true
            rest = url.dropFirst(8)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" }
        rest = rest.dropFirst(authority.count)
        var path = rest.isEmpty ? "/" : String(rest)
        if let appendingPath { path = (path.hasSuffix("/") ? path : path + "/") + appendingPath }
        guard !authority.contains("@"),
            let (host, port) = try? ServerAddress.hostAndPort(
                authority, defaultPort: secure ? 443 : 80, in: url)
        else { return nil }
        self.host = host
        self.port = port
        self.path = path
        tls = secure ? TLSOptions() : nil
    }
}
