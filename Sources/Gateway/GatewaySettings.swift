import Foundation
import ServiceRuntime

/// Everything the gateway reads from its environment.
struct GatewaySettings {
    var host: String
    var port: Int
    var nats: NATSSettings
    var requestTimeout: Duration
    var maxBodyBytes: Int
    var idleTimeoutSeconds: Int
    var algorithm: String
    var secretKey: String?
    var issuer: String
    var audience: String
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
                "JWT_ALGORITHM", help: "EdDSA (keys from auth.jwks) or HS256 (SECRET_KEY)", default: "EdDSA"),
            ConfigVariable(
                "SECRET_KEY", help: "HS256 secret, at least 32 bytes (JWT_ALGORITHM=HS256 only)", secret: true
            ),
            ConfigVariable("JWT_ISSUER", help: "required iss", default: "natswire-auth"),
            ConfigVariable("JWT_AUDIENCE", help: "required aud", default: "natswire-api"),
            ConfigVariable("LOG_FORMAT", help: "text or json", default: "text"),
            ConfigVariable("LOG_LEVEL", help: "log level", default: "info"),
        ]

    init(_ reader: ConfigReader) throws {
        host = reader.string("HTTP_HOST", default: "127.0.0.1") ?? "127.0.0.1"
        port = reader.int("HTTP_PORT", default: 8080, range: 0...65535)
        nats = NATSSettings(reader)
        requestTimeout = .milliseconds(reader.int("REQUEST_TIMEOUT_MS", default: 5000, range: 10...600_000))
        maxBodyBytes = reader.int("MAX_BODY_BYTES", default: 65536, range: 256...(16 << 20))
        idleTimeoutSeconds = reader.int("HTTP_IDLE_TIMEOUT_S", default: 30, range: 1...3600)
        algorithm = reader.oneOf("JWT_ALGORITHM", ["EdDSA", "HS256"], default: "EdDSA")
        secretKey = reader.string("SECRET_KEY")
        if algorithm == "HS256" && (secretKey?.utf8.count ?? 0) < 32 {
            reader.problem("SECRET_KEY of at least 32 bytes is required when JWT_ALGORITHM=HS256")
        }
        issuer = reader.string("JWT_ISSUER", default: "natswire-auth") ?? ""
        audience = reader.string("JWT_AUDIENCE", default: "natswire-api") ?? ""
        logJSON = reader.oneOf("LOG_FORMAT", ["text", "json"], default: "text") == "json"
        logLevel = reader.oneOf(
            "LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info"
        )
        try reader.validate()
    }
}
