import Contracts
import JWTKit
import Metrics
import NATSWire
import ServiceRuntime
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A verified token's identity.
struct Identity: Sendable {
    let userID: String
    let expires: Date
    var roles: [String] = []
}

/// Verifies bearer tokens: EdDSA with the auth service's public keys fetched over NATS
/// (`auth.jwks`, refetched on an unknown `kid`, at most once a second), or HS256 with a
/// shared secret. Verified tokens are cached until they expire, so each is checked once.
final class TokenVerifier: Sendable {
    private let keys = JWTKeyCollection()
    private let nats: NATSClient
    private let issuer: String
    private let audience: String
    private let usesJWKS: Bool
    private let acceptsOriginalTokens: Bool
    private let lastFetch = Mutex<Date?>(nil)
    private let cache = Mutex<[String: Identity]>([:])
    private static let cacheLimit = 10_000
    private let cacheHits = Counter(label: MetricCatalog.tokenCacheHits)
    private let cacheMisses = Counter(label: MetricCatalog.tokenCacheMisses)

    init(nats: NATSClient, settings: GatewaySettings) async {
        self.nats = nats
        issuer = settings.tokens.issuer
        audience = settings.tokens.audience
        usesJWKS = settings.tokens.algorithm == .eddsa
        acceptsOriginalTokens = settings.upstreams.auth == .nest
        if !usesJWKS, let secret = settings.tokens.secretKey {
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        }
    }

    enum Failure: Error {
        case missing
        case invalid(String)
    }

    func verify(_ token: String) async throws(Failure) -> Identity {
        if let cached = cache.withLock({ $0[token] }), cached.expires > Date() {
            cacheHits.increment()
            return cached
        }
        cacheMisses.increment()
        let claims: AccessTokenClaims
        do {
            claims = try await verifyClaims(token)
        } catch let error as Failure {
            throw error
        } catch {
            throw .invalid("the token is not valid")
        }
        // The original auth service's tokens carry neither: accepted only while it is the
        // upstream (UPSTREAM_AUTH=nest), and then only signed with the shared HS256 secret.
        if let iss = claims.iss {
            guard iss.value == issuer else { throw .invalid("wrong issuer") }
        } else if !acceptsOriginalTokens {
            throw .invalid("the token has no issuer")
        }
        if let aud = claims.aud {
            guard aud.value.contains(audience) else { throw .invalid("wrong audience") }
        } else if !acceptsOriginalTokens {
            throw .invalid("the token has no audience")
        }
        let identity = Identity(
            userID: claims.sub.value, expires: claims.exp.value, roles: claims.roles ?? [])
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit {
                let now = Date()
                cache = cache.filter { $0.value.expires > now }
                if cache.count >= Self.cacheLimit { cache.removeAll() }
            }
            cache[token] = identity
        }
        return identity
    }

    private func verifyClaims(_ token: String) async throws -> AccessTokenClaims {
        do {
            return try await keys.verify(token, as: AccessTokenClaims.self)
        } catch let error as JWTError where usesJWKS && Self.isUnknownKey(error) {
            guard try await refreshKeys() else { throw error }
            return try await keys.verify(token, as: AccessTokenClaims.self)
        }
    }

    private static func isUnknownKey(_ error: JWTError) -> Bool {
        // No keys at all yet (the gateway started before the auth service could answer).
        if error.errorType == .noKeyProvided { return true }
        let text = "\(error)".lowercased()
        return text.contains("unknown kid") || text.contains("no keys") || text.contains("missing kid")
            || text.contains("unknown")
    }

    /// Fetches the JWKS; `false` when it was fetched less than a second ago. A fetch that
    /// failed (the auth service not up yet, as when every pod starts at once) does not count:
    /// the next token with an unknown key tries again at once instead of being refused for
    /// a second.
    @discardableResult
    func refreshKeys() async throws -> Bool {
        guard usesJWKS else { return false }
        let now = Date()
        let allowed = lastFetch.withLock { last -> Bool in
            if let last, now.timeIntervalSince(last) < 1 { return false }
            last = now
            return true
        }
        guard allowed else { return false }
        do {
            let reply = try await nats.request([UInt8](), to: AuthSubject.jwks, timeout: .seconds(2))
            try await keys.add(jwksJSON: reply.string)
            return true
        } catch {
            lastFetch.withLock { if $0 == now { $0 = nil } }
            throw error
        }
    }
}
