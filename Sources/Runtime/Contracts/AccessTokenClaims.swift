#if canImport(JWTKit)
    import JWTKit

    /// The claims of an access token: what the auth service signs and the gateway verifies.
    /// Only `sub` and `exp` are required, so that tokens of the original system's auth service
    /// (`sub` and `exp` only) decode too; whether a token without `iss` and `aud` is accepted
    /// is the verifier's decision.
    public struct AccessTokenClaims: JWTPayload, Equatable {
        public var sub: SubjectClaim
        public var exp: ExpirationClaim
        public var iss: IssuerClaim?
        public var aud: AudienceClaim?
        public var nbf: NotBeforeClaim?
        public var iat: IssuedAtClaim?
        public var jti: IDClaim?
        public var email: String?
        public var username: String?
        public var roles: [String]?

        public init(
            sub: SubjectClaim, exp: ExpirationClaim, iss: IssuerClaim?, aud: AudienceClaim?,
            nbf: NotBeforeClaim? = nil, iat: IssuedAtClaim? = nil, jti: IDClaim? = nil, email: String? = nil,
            username: String? = nil, roles: [String]? = nil
        ) {
            self.sub = sub
            self.exp = exp
            self.iss = iss
            self.aud = aud
            self.nbf = nbf
            self.iat = iat
            self.jti = jti
            self.email = email
            self.username = username
            self.roles = roles
        }

        /// Expiry and not-before; issuer and audience are the verifier's to compare.
        public func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try nbf?.verifyNotBefore()
        }
    }
#endif
