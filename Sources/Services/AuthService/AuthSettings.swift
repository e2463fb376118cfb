import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Everything the auth service reads from its environment.
struct AuthSettings {
    var nats: NATSSettings
    var mongoURL: String
    var bcryptCost: Int
    var hashQueueBudgetMilliseconds: Int
    var accessTokenTTL: Int
    var refreshTokenTTL: Int
    var tokens: TokenSettings
    var maxLoginFailures: Int
    var lockoutSeconds: Int
    var logJSON: Bool
    var logLevel: String
    var instanceName: String?
    var events: EventSettings
    /// Users with these emails get the `admin` role (e.g. for `GET /events`).
    var adminEmails: Set<String>

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
                "LOGIN_MAX_FAILURES", help: "failed logins for one email before it is locked", default: "5"),
            ConfigVariable("LOGIN_LOCKOUT_SECONDS", help: "how long a locked email waits", default: "900"),
            ConfigVariable(
                "ADMIN_EMAILS", help: "comma-separated emails whose users get the admin role in their tokens"),
        ]
        + TokenSettings.variables(
            algorithmHelp: "EdDSA (key pair kept in MongoDB) or HS256 (shared SECRET_KEY)")
        + EventSettings.variables
        + ProcessSetup.loggingVariables

    init(_ reader: SettingsReader) {
        nats = NATSSettings(reader)
        mongoURL = reader.string("MONGO_URL", default: "mongodb://127.0.0.1:27017/auth") ?? ""
        if !mongoURL.hasPrefix("mongodb://") && !mongoURL.hasPrefix("mongodb+srv://") {
            reader.problem("MONGO_URL must start with mongodb:// or mongodb+srv://")
        }
        bcryptCost = reader.int("BCRYPT_COST", default: 10, range: 4...15)
        hashQueueBudgetMilliseconds = reader.int("HASH_QUEUE_BUDGET_MS", default: 2000, range: 0...600_000)
        accessTokenTTL = reader.int("ACCESS_TOKEN_TTL", default: 900, range: 30...86_400)
        refreshTokenTTL = reader.int("REFRESH_TOKEN_TTL", default: 2_592_000, range: 60...31_536_000)
        tokens = TokenSettings(reader)
        maxLoginFailures = reader.int("LOGIN_MAX_FAILURES", default: 5, range: 1...1000)
        lockoutSeconds = reader.int("LOGIN_LOCKOUT_SECONDS", default: 900, range: 1...86_400)
        (logJSON, logLevel) = ProcessSetup.logging(reader)
        events = EventSettings(reader)
        adminEmails = Set(
            (reader.string("ADMIN_EMAILS") ?? "").split(separator: ",").map {
                String($0.filter { $0 != " " }).lowercased()
            }.filter { !$0.isEmpty })
    }
}
