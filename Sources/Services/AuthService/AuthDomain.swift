import BlockingCalls
import Contracts
import Crypto
import HummingbirdBcrypt
import NATSWire
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The auth operations, between the NATS handlers and the repositories.
struct AuthDomain: Sendable {
    let users: UserRepository
    let refreshTokens: RefreshTokenRepository
    let throttle: LoginThrottle
    let issuer: TokenIssuer
    let settings: AuthSettings
    /// bcrypt runs here: CPU-heavy, off the cooperative pool, never holding a lock; refused
    /// at once when a burst has queued more than it can finish in time.
    let hashing: PasswordHasher
    /// Verified against when the email is unknown, so both paths cost one bcrypt.
    let dummyHash: String
    /// Told after each registration, so its event goes out at once (`nil`: events off).
    let relay: EventRelay?

    /// Registers a user. With an idempotency key, a registration sent again with the same
    /// key, username, email and password answers the first one's user (a retry after a lost
    /// answer is not a 409); the key with anything else is 422.
    func register(_ request: RegisterUserRequest, requestID: String, idempotencyKey: String? = nil)
        async throws -> UserView
    {
        // Taken as sent (no trimming), so that the rules are exactly the OpenAPI document's.
        let username = request.username
        let email = Self.normalize(request.email)
        var errors = FieldErrors()
        for problem in UserRules.usernameProblems(username) { errors.add("username", problem) }
        errors.check(FieldRule.isEmail(email), "email", "is not a valid email address")
        if let problem = UserRules.passwordProblem(request.password) { errors.add("password", problem) }
        try errors.throwIfAny()

        let key = idempotencyKey.map {
            UserRepository.IdempotencyRecord(key: $0, username: username, email: email)
        }
        if let key, let first = try await firstRegistration(key, password: request.password) { return first }
        let cost = UInt8(settings.bcryptCost)
        let password = request.password
        let hash = try await hashing.run { Bcrypt.hash(Self.bcryptInput(password), cost: cost) }
        guard
            let user = try await users.insert(
                username: username, email: email, passwordHash: hash, roles: ["user"],
                event: relay == nil ? nil : UserEvents.Origin(requestID: requestID), idempotency: key)
        else {
            // A twin with the same key that was faster wrote it: its answer is ours.
            if let key, let first = try await firstRegistration(key, password: request.password) {
                return first
            }
            throw ServiceError(code: 409, message: "email is already registered")
        }
        relay?.poke()
        return Self.view(user)
    }

    /// The user a key's first registration made, if the key was used: the same username,
    /// email and password (checked against the stored hash) or 422.
    private func firstRegistration(_ key: UserRepository.IdempotencyRecord, password: String) async throws
        -> UserView?
    {
        guard let (user, record) = try await users.find(idempotencyKey: key.key) else { return nil }
        guard record == key else {
            throw ServiceError(
                code: 422, message: "Idempotency-Key was already used with a different request")
        }
        let hash = user.passwordHash
        let same = try await hashing.run { Bcrypt.verify(Self.bcryptInput(password), hash: hash) }
        guard same else {
            throw ServiceError(
                code: 422, message: "Idempotency-Key was already used with a different request")
        }
        return Self.view(user)
    }

    func login(_ request: LoginRequest) async throws -> TokenPair {
        try await tokens(for: try await authenticate(request), family: UUID().uuidString)
    }

    /// The user whose email and password these are; a 401 (or a 429 while locked out)
    /// otherwise, at the cost of one bcrypt either way.
    func authenticate(_ request: LoginRequest) async throws -> StoredUser {
        let email = Self.normalize(request.email)
        var errors = FieldErrors()
        errors.check(!email.isEmpty, "email", "is required")
        errors.check(!request.password.isEmpty, "password", "is required")
        try errors.throwIfAny()
        if try await throttle.lockedUntil(email) != nil {
            throw ServiceError(code: 429, message: "too many failed logins for this email; try again later")
        }
        let user = try await users.find(email: email)
        let password = request.password
        let hash = user?.passwordHash ?? dummyHash
        let matches = try await hashing.run { Bcrypt.verify(Self.bcryptInput(password), hash: hash) }
        guard let user, matches else {
            try await throttle.recordFailure(email)
            throw ServiceError(code: 401, message: "invalid email or password")
        }
        try await throttle.recordSuccess(email)
        return user
    }

    /// Rotates a refresh token. With an idempotency key, the same refresh sent again (its
    /// answer was lost) gets the same pair instead of revoking the family as a replay; see
    /// ``RefreshTokenRepository``.
    func refresh(_ request: RefreshRequest, idempotencyKey: String? = nil) async throws -> TokenPair {
        guard !request.refresh_token.isEmpty, request.refresh_token.utf8.count < 512 else {
            throw ServiceError(code: 400, message: "refresh_token: is required")
        }
        let issue = TokenIssuer.Issue.now()
        let retry = idempotencyKey.map {
            RefreshTokenRepository.Retry(key: $0, issuedAt: issue.issuedAt, tokenID: issue.tokenID)
        }
        switch try await refreshTokens.consume(request.refresh_token, retry: retry) {
        case .consumed(let userID, let family):
            return try await tokens(
                for: userID, family: family, issue: issue, after: request.refresh_token, key: idempotencyKey)
        case .retried(let userID, let family, let first):
            return try await tokens(
                for: userID, family: family,
                issue: TokenIssuer.Issue(issuedAt: first.issuedAt, tokenID: first.tokenID),
                after: request.refresh_token, key: first.key)
        case .reused(let family):
            try await refreshTokens.revoke(family: family)
            throw ServiceError(
                code: 401, message: "refresh token reuse detected; all sessions of this login are revoked")
        case .invalid:
            throw ServiceError(code: 401, message: "invalid refresh token")
        }
    }

    /// The pair a refresh answers: with a key, the next refresh token is the one derived
    /// from the consumed token and the key.
    private func tokens(
        for userID: String, family: String, issue: TokenIssuer.Issue, after parent: String, key: String?
    )
        async throws -> TokenPair
    {
        guard let user = try await users.find(id: userID) else {
            throw ServiceError(code: 401, message: "invalid refresh token")
        }
        guard let key else { return try await tokens(for: user, family: family, issue: issue) }
        let access = try await issuer.accessToken(for: withConfiguredRoles(user), issue: issue)
        let refresh = try await refreshTokens.issueSuccessor(
            of: parent, key: key, userID: user.id, family: family, ttl: settings.refreshTokenTTL)
        return TokenPair(access_token: access, refresh_token: refresh, expires_in: settings.accessTokenTTL)
    }

    func logout(_ request: LogoutRequest) async throws -> Acknowledgement {
        switch try await refreshTokens.consume(request.refresh_token) {
        case .consumed(_, let family), .retried(_, let family, _), .reused(let family):
            try await refreshTokens.revoke(family: family)
            return Acknowledgement()
        case .invalid:
            throw ServiceError(code: 401, message: "invalid refresh token")
        }
    }

    /// `user_id` is a token's subject: the user's id, or the email in a token made for the
    /// original gateway (its tokens name the user by email).
    func me(_ request: MeRequest) async throws -> UserView {
        let found =
            request.user_id.contains("@")
            ? try await users.find(email: Self.normalize(request.user_id))
            : try await users.find(id: request.user_id)
        guard let user = found else {
            throw ServiceError(code: 404, message: "user not found")
        }
        return Self.view(user)
    }

    private func tokens(for user: StoredUser, family: String, issue: TokenIssuer.Issue = .now()) async throws
        -> TokenPair
    {
        let access = try await issuer.accessToken(for: withConfiguredRoles(user), issue: issue)
        let refresh = try await refreshTokens.issue(
            userID: user.id, family: family, ttl: settings.refreshTokenTTL)
        return TokenPair(access_token: access, refresh_token: refresh, expires_in: settings.accessTokenTTL)
    }

    /// The user with the `admin` role added when `ADMIN_EMAILS` lists the email: granted by
    /// configuration, at every token, so removing an email takes the role away again.
    func withConfiguredRoles(_ user: StoredUser) -> StoredUser {
        guard settings.adminEmails.contains(user.email), !user.roles.contains("admin") else { return user }
        var granted = user
        granted.roles.append("admin")
        return granted
    }

    static func view(_ user: StoredUser) -> UserView {
        UserView(
            id: user.id, username: user.username, email: user.email, roles: user.roles,
            created_at: user.createdAt)
    }

    /// Emails compare case-insensitively; nothing else is changed (the OpenAPI document
    /// promises that any non-empty email is looked up as sent).
    static func normalize(_ email: String) -> String {
        email.lowercased()
    }

    /// What bcrypt hashes. bcrypt reads 72 bytes at most; a longer password (72 characters of
    /// non-ASCII text can be 288 bytes) is hashed with SHA-256 first, so that every character
    /// counts instead of being cut off silently.
    static func bcryptInput(_ password: String) -> String {
        guard password.utf8.count > 72 else { return password }
        return Hex.encode(SHA256.hash(data: Array(password.utf8)))
    }
}
