import Foundation
import NATSWire

/// A NATS operator with one account, for servers in operator (JWT) mode: issues the signed
/// JWTs itself with NATSWire's NKeys, as `nsc` would, and writes the server config and
/// user credentials files.
public struct NATSOperator: Sendable {
    public let operatorKey: NKeyPair
    public let accountKey: NKeyPair
    public let operatorJWT: String
    public let accountJWT: String

    public init() throws {
        operatorKey = try NKeyPair.generate(.operator)
        accountKey = try NKeyPair.generate(.account)
        operatorJWT = try Self.sign(
            claims: [
                "name": "test-operator", "sub": operatorKey.publicKey,
                "nats": ["type": "operator", "version": 2],
            ],
            by: operatorKey)
        accountJWT = try Self.sign(
            claims: [
                "name": "test-account", "sub": accountKey.publicKey,
                "nats": [
                    "type": "account", "version": 2,
                    "limits": [
                        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                        "wildcards": true,
                        "conn": -1, "leaf": -1,
                    ],
                ],
            ], by: operatorKey)
    }

    /// Server config lines: this operator, and the account preloaded in memory.
    public func serverConfig(directory: URL) throws -> String {
        let file = directory.appendingPathComponent("operator-\(UUID().uuidString.prefix(6)).jwt")
        try operatorJWT.write(to: file, atomically: true, encoding: .utf8)
        return """
            operator: "\(file.path)"
            resolver: MEMORY
            resolver_preload: {
              \(accountKey.publicKey): "\(accountJWT)"
            }
            """
    }

    /// A user of the account; `expires` sets the JWT's `exp`; `signedBy` another account key
    /// makes a user the server must refuse.
    public func user(name: String = "test-user", expires: Date? = nil, signedBy signer: NKeyPair? = nil)
        throws
        -> NATSCredentials
    {
        let key = try NKeyPair.generate(.user)
        var claims: [String: Any] = [
            "name": name, "sub": key.publicKey,
            "nats": [
                "type": "user", "version": 2, "pub": [:], "sub": [:], "subs": -1, "data": -1, "payload": -1,
            ]
                as [String: Any],
        ]
        if let expires { claims["exp"] = Int(expires.timeIntervalSince1970) }
        let jwt = try Self.sign(claims: claims, by: signer ?? accountKey)
        return NATSCredentials(jwt: jwt, key: key)
    }

    /// Writes `credentials` as a `.creds` file and returns its path.
    public static func write(_ credentials: NATSCredentials, in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("user-\(UUID().uuidString.prefix(6)).creds")
        try NATSCredentials.fileText(jwt: credentials.jwt, key: credentials.key)
            .write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func sign(claims: [String: Any], by issuer: NKeyPair) throws -> String {
        var claims = claims
        claims["iss"] = issuer.publicKey
        claims["iat"] = Int(Date().timeIntervalSince1970)
        claims["jti"] = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let header = try JSONSerialization.data(withJSONObject: ["typ": "JWT", "alg": "ed25519-nkey"])
        let body = try JSONSerialization.data(withJSONObject: claims)
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(body)
        let signature = try issuer.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}
