import Contracts
import JWTKit
import MongoStore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Signs access tokens and publishes the public keys.
///
/// EdDSA (default): the Ed25519 key pair lives in MongoDB under a fixed id, created by the
/// first instance that starts (an upsert, so concurrent starts agree on one key) and
/// shared by every replica and restart. HS256: a shared secret, as the original system did.
struct TokenIssuer: Sendable {
    let keys: JWTKeyCollection
    let kid: String
    let jwks: [UInt8]
    let issuer: String
    let audience: String
    let ttl: Int

    static func make(settings: AuthSettings, keyStore: MongoCollection) async throws -> TokenIssuer {
        // Members in a fixed order: the same claims then sign to the same token (a retried
        // refresh answers what the first one did); the default order varies between runs.
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        let serializer = DefaultJWTSerializer(jsonEncoder: encoder)
        let keys = JWTKeyCollection(defaultJWTSerializer: serializer)
        switch settings.tokens.algorithm {
        case .hs256:
            let kid = "hs256"
            await keys.add(
                hmac: HMACKey(from: settings.tokens.secretKey ?? ""), digestAlgorithm: .sha256,
                kid: JWKIdentifier(string: kid), serializer: serializer)
            return TokenIssuer(
                keys: keys, kid: kid, jwks: Array(#"{"keys":[]}"#.utf8), issuer: settings.tokens.issuer,
                audience: settings.tokens.audience, ttl: settings.accessTokenTTL)
        case .eddsa:
            let candidate = try EdDSA.PrivateKey(curve: .ed25519)
            let candidateKid = "ed25519-" + String(ObjectID.generate().suffix(12))
            let stored = try await keyStore.findOneAndUpdate(
                ["_id": .string("signing-key")],
                [
                    "$setOnInsert": .document([
                        "kid": .string(candidateKid), "alg": .string("EdDSA"), "crv": .string("Ed25519"),
                        "d": .string(candidate.rawRepresentation.base64URLEncoded),
                        "x": .string(candidate.publicKey.rawRepresentation.base64URLEncoded),
                        "created_at": .date(Date()),
                    ])
                ], upsert: true, returnNew: true)
            guard let stored, let kid = stored["kid"]?.string, let d = stored["d"]?.string,
                let x = stored["x"]?.string
            else { throw AuthStartupError("the signing key document is incomplete") }
            let key = try EdDSA.PrivateKey(d: d, curve: .ed25519)
            await keys.add(eddsa: key, kid: JWKIdentifier(string: kid), serializer: serializer)
            let jwk: [String: String] = [
                "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig",
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let jwks = try encoder.encode(["keys": [jwk]])
            return TokenIssuer(
                keys: keys, kid: kid, jwks: Array(jwks), issuer: settings.tokens.issuer,
                audience: settings.tokens.audience,
                ttl: settings.accessTokenTTL)
        }
    }

    /// What a token's `sub` names: our user id, or the email as the original system's tokens
    /// do (those go to its gateway).
    enum Subject {
        case userID, email
    }

    /// When an access token is issued and its id: given again, the same token comes out
    /// (EdDSA and HS256 signatures are deterministic), which a retried refresh relies on.
    struct Issue: Sendable {
        /// Whole seconds since 1970: NumericDate may be fractional, but many verifiers
        /// expect integers.
        var issuedAt: Int64
        var tokenID: String

        static func now() -> Issue {
            Issue(issuedAt: Int64(Date().timeIntervalSince1970.rounded(.down)), tokenID: UUID().uuidString)
        }
    }

    func accessToken(for user: StoredUser, subject: Subject = .userID, issue: Issue = .now()) async throws
        -> String
    {
        let now = Date(timeIntervalSince1970: TimeInterval(issue.issuedAt))
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: subject == .email ? user.email : user.id),
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(ttl))),
            iss: IssuerClaim(value: issuer), aud: AudienceClaim(value: [audience]),
            iat: IssuedAtClaim(value: now), jti: IDClaim(value: issue.tokenID), email: user.email,
            username: user.username, roles: user.roles)
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }
}

struct AuthStartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
