import Foundation
import ServiceRuntime

/// Everything the auth service reads from its environment.
struct AuthSettings {
    enum Algorithm: String { case eddsa = "EdDSA", hs256 = "HS256" }

    var nats: NATSSettings
    var mongoURL: String
    var bcryptCost: Int
    var hashQueueBudgetMilliseconds: Int
    var accessTokenTTL: Int
    var refreshTokenTTL: Int
    var algorithm: Algorithm
    var secretKey: String?
    var issuer: String
    var audience: String
    var maxLoginFailures: Int
    var lockoutSeconds: Int
    var logJSON: Bool
    var logLevel: String
    var instanceName: String?

    static let variables: [ConfigVariable] =
        NATSSettings.variables + [
            ConfigVariable(
                "MONGO_URL", help: "MongoDB URL; the path names the database",
                default: "mongodb://127.0.0.1:27017/auth"),
            ConfigVariable("BCRYPT_COST", help: "bcrypt cost factor, 4...15", default: "10"),
            ConfigVariable(
                "HASH_QUEUE_BUDGET_MS",
                help: "a login or registration that would wait longer for bcrypt is refused with 503 at once",
                default: "2000"),
            ConfigVariable("ACCESS_TOKEN_TTL", help: "access token lifetime in seconds", default: "900"),
            ConfigVariable(
                "REFRESH_TOKEN_TTL", help: "refresh token lifetime in seconds", default: "2592000"),
            ConfigVariable(
                "JWT_ALGORITHM", help: "EdDSA (key pair kept in MongoDB) or HS256 (shared SECRET_KEY)",
                default: "EdDSA"),
            ConfigVariable(
                "SECRET_KEY", help: "HS256 secret, at least 32 bytes (JWT_ALGORITHM=HS256 only)", secret: true
            ),
            ConfigVariable("JWT_ISSUER", help: "iss claim", default: "natswire-auth"),
            ConfigVariable("JWT_AUDIENCE", help: "aud claim", default: "natswire-api"),
            ConfigVariable(
                "LOGIN_MAX_FAILURES", help: "failed logins for one email before it is locked", default: "5"),
            ConfigVariable("LOGIN_LOCKOUT_SECONDS", help: "how long a locked email waits", default: "900"),
            ConfigVariable("LOG_FORMAT", help: "text or json", default: "text"),
            ConfigVariable(
                "LOG_LEVEL", help: "trace, debug, info, notice, warning, error, critical", default: "info"),
        ]

    init(_ reader: ConfigReader) throws {
        nats = NATSSettings(reader)
        mongoURL = reader.string("MONGO_URL", default: "mongodb://127.0.0.1:27017/auth") ?? ""
        if !mongoURL.hasPrefix("mongodb://") && !mongoURL.hasPrefix("mongodb+srv://") {
            reader.problem("MONGO_URL must start with mongodb:// or mongodb+srv://")
        }
        bcryptCost = reader.int("BCRYPT_COST", default: 10, range: 4...15)
        hashQueueBudgetMilliseconds = reader.int("HASH_QUEUE_BUDGET_MS", default: 2000, range: 0...600_000)
        accessTokenTTL = reader.int("ACCESS_TOKEN_TTL", default: 900, range: 30...86_400)
        refreshTokenTTL = reader.int("REFRESH_TOKEN_TTL", default: 2_592_000, range: 60...31_536_000)
        algorithm =
            Algorithm(rawValue: reader.oneOf("JWT_ALGORITHM", ["EdDSA", "HS256"], default: "EdDSA")) ?? .eddsa
        secretKey = reader.string("SECRET_KEY")
        if algorithm == .hs256 {
            if let secretKey {
                if secretKey.utf8.count < 32 {
                    reader.problem("SECRET_KEY must be at least 32 bytes for HS256")
                }
            } else {
                reader.problem("SECRET_KEY is required when JWT_ALGORITHM=HS256")
            }
        }
        issuer = reader.string("JWT_ISSUER", default: "natswire-auth") ?? ""
        audience = reader.string("JWT_AUDIENCE", default: "natswire-api") ?? ""
        maxLoginFailures = reader.int("LOGIN_MAX_FAILURES", default: 5, range: 1...1000)
        lockoutSeconds = reader.int("LOGIN_LOCKOUT_SECONDS", default: 900, range: 1...86_400)
        logJSON = reader.oneOf("LOG_FORMAT", ["text", "json"], default: "text") == "json"
        logLevel = reader.oneOf(
            "LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info"
        )
        try reader.validate()
    }
}
