/// The access-token settings: what the auth service signs with and the gateway verifies
/// with. One set of variables and one set of rules for both.
public struct TokenSettings: Sendable {
    public enum Algorithm: String, Sendable {
        case eddsa = "EdDSA"
        case hs256 = "HS256"
    }

    public var algorithm: Algorithm
    /// The HS256 secret (at least 32 bytes); `nil` with EdDSA.
    public var secretKey: String?
    public var issuer: String
    public var audience: String

    /// `JWT_ALGORITHM`, `SECRET_KEY`, `JWT_ISSUER`, `JWT_AUDIENCE`; `algorithmHelp` says where
    /// this process gets its keys.
    public static func variables(algorithmHelp: String) -> [ConfigVariable] {
        [
            ConfigVariable("JWT_ALGORITHM", help: algorithmHelp, default: "EdDSA"),
            ConfigVariable(
                "SECRET_KEY", help: "HS256 secret, at least 32 bytes (JWT_ALGORITHM=HS256 only)", secret: true
            ),
            ConfigVariable("JWT_ISSUER", help: "the iss claim", default: "natswire-auth"),
            ConfigVariable("JWT_AUDIENCE", help: "the aud claim", default: "natswire-api"),
        ]
    }

    public init(_ reader: SettingsReader) {
        algorithm =
            Algorithm(rawValue: reader.oneOf("JWT_ALGORITHM", ["EdDSA", "HS256"], default: "EdDSA")) ?? .eddsa
        let secret = reader.string("SECRET_KEY")
        secretKey = algorithm == .hs256 ? secret : nil
        if algorithm == .hs256 && (secret?.utf8.count ?? 0) < 32 {
            reader.problem("SECRET_KEY of at least 32 bytes is required when JWT_ALGORITHM=HS256")
        }
        issuer = reader.string("JWT_ISSUER", default: "natswire-auth") ?? ""
        audience = reader.string("JWT_AUDIENCE", default: "natswire-api") ?? ""
    }
}
