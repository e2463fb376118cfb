import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Everything the gateway reads from its environment.
struct GatewaySettings {
    var host: String
    var port: Int
    var nats: NATSSettings
    var requestTimeout: Duration
    var maxBodyBytes: Int
    var idleTimeoutSeconds: Int
    var metricsGatherTimeout: Duration
    var tokens: TokenSettings
    var upstreams: Upstreams
    var eventsStream: String
    var logJSON: Bool
    var logLevel: String

    static let variables: [ConfigVariable] =
        NATSSettings.variables + [
            ConfigVariable("HTTP_HOST", help: "address to listen on", default: "127.0.0.1"),
            ConfigVariable("HTTP_PORT", help: "port to listen on", default: "8080"),
            ConfigVariable(
                "REQUEST_TIMEOUT_MS", help: "how long a NATS request may take before 504", default: "5000"),
            ConfigVariable("MAX_BODY_BYTES", help: "largest request body accepted", default: "65536"),
            ConfigVariable(
                "HTTP_IDLE_TIMEOUT_S",
                help: "seconds a client connection may send nothing before it is closed",
                default: "30"),
            ConfigVariable(
                "METRICS_GATHER_MS",
                help: "how long GET /metrics/services waits for the service instances' metrics over NATS",
                default: "300"),
        ] + TokenSettings.variables(algorithmHelp: "EdDSA (keys from auth.jwks) or HS256 (SECRET_KEY)")
        + Upstreams.variables + [EventSettings.streamVariable] + ProcessSetup.loggingVariables

    init(_ reader: SettingsReader) {
        host = reader.string("HTTP_HOST", default: "127.0.0.1") ?? "127.0.0.1"
        port = reader.int("HTTP_PORT", default: 8080, range: 0...65535)
        nats = NATSSettings(reader)
        requestTimeout = .milliseconds(reader.int("REQUEST_TIMEOUT_MS", default: 5000, range: 10...600_000))
        maxBodyBytes = reader.int("MAX_BODY_BYTES", default: 65536, range: 256...(16 << 20))
        idleTimeoutSeconds = reader.int("HTTP_IDLE_TIMEOUT_S", default: 30, range: 1...3600)
        metricsGatherTimeout = .milliseconds(
            reader.int("METRICS_GATHER_MS", default: 300, range: 10...10_000))
        tokens = TokenSettings(reader)
        upstreams = Upstreams(reader)
        eventsStream = EventSettings.stream(reader)
        if upstreams.auth == .nest && tokens.algorithm != .hs256 {
            reader.problem(
                "UPSTREAM_AUTH=nest needs JWT_ALGORITHM=HS256 and the original's secret as SECRET_KEY"
                    + " (the original auth service signs with HS256)")
        }
        (logJSON, logLevel) = ProcessSetup.logging(reader)
    }
}
