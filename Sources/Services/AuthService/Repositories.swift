import Contracts
import Crypto
import MongoStore
import NATSWire
import ServiceRuntime
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A stored user.
struct StoredUser: Sendable {
    var id: String
    var username: String
    var email: String
    var passwordHash: String
    var roles: [String]
    var createdAt: Date

    init?(_ document: MongoDocument) {
        guard let id = document["_id"]?.objectID, let username = document["username"]?.string,
            let email = document["email"]?.string, let hash = document["password_hash"]?.string
        else { return nil }
        self.id = id
        self.username = username
        self.email = email
        self.passwordHash = hash
        self.roles = document["roles"]?.array?.compactMap(\.string) ?? []
        self.createdAt = document["created_at"]?.date ?? Date(timeIntervalSince1970: 0)
    }
}

/// Users in the `users` collection; email is unique (stored lowercase).
struct UserRepository: Sendable {
    let collection: MongoCollection

    func prepare() async throws {
        try await collection.createIndex(name: "email_unique", keys: ["email": .int(1)], unique: true)
        // Only registrations that came with a key have one.
        try await collection.createIndex(
            name: "idempotency_key_unique", keys: ["idempotency.key": .int(1)], unique: true, sparse: true)
    }

    /// The `Idempotency-Key` a registration came with, and what it registered (never the
    /// password: a retry's password is checked against the stored hash).
    struct IdempotencyRecord: Equatable, Sendable {
        var key: String
        var username: String
        var email: String

        var document: MongoValue {
            .document(["key": .string(key), "username": .string(username), "email": .string(email)])
        }
    }

    /// The user a key registered, with the key's record.
    func find(idempotencyKey key: String) async throws -> (StoredUser, IdempotencyRecord)? {
        guard let document = try await collection.findOne(["idempotency.key": .string(key)]),
            let user = StoredUser(document), let record = document["idempotency"]?.document,
            let username = record["username"]?.string, let email = record["email"]?.string
        else { return nil }
        return (user, IdempotencyRecord(key: key, username: username, email: email))
    }

    /// Inserts a user; `nil` when the email is taken (the unique index decides, so two
    /// concurrent registrations cannot both win). With `event`, the document carries its
    /// `auth.events.registered` event until the relay has published it (``UserEvents``): one
    /// document, so neither exists without the other.
    func insert(
        username: String, email: String, passwordHash: String, roles: [String], event: UserEvents.Origin?,
        idempotency: IdempotencyRecord? = nil
    ) async throws
        -> StoredUser?
    {
        let id = ObjectID.generate()
        let now = Date()
        var document: MongoDocument = [
            "_id": .objectID(id), "username": .string(username), "email": .string(email),
            "password_hash": .string(passwordHash), "roles": .array(roles.map(MongoValue.string)),
            "created_at": .date(now),
        ]
        if let idempotency { document["idempotency"] = idempotency.document }
        if let event {
            document[UserEvents.field] = UserEvents.registered(
                id: id, username: username, email: email, roles: roles, createdAt: now, origin: event)
        }
        do {
            try await collection.insertOne(document)
        } catch let error as MongoError where error.kind == .duplicateKey {
            return nil
        }
        return StoredUser(document)
    }

    func find(email: String) async throws -> StoredUser? {
        try await collection.findOne(["email": .string(email)]).flatMap(StoredUser.init)
    }

    func find(id: String) async throws -> StoredUser? {
        guard ObjectID.isValid(id) else { return nil }
        return try await collection.findOne(["_id": .objectID(id)]).flatMap(StoredUser.init)
    }
}

/// Refresh tokens, stored only as SHA-256 hashes. Each login starts a family; every refresh
/// consumes its token and issues the next of the same family. Presenting a consumed token
/// again means it was stolen or replayed: the whole family is revoked.
///
/// A refresh sent with an `Idempotency-Key` can be sent again with the same key (its answer
/// was lost): the consumed token records the key and the access token's issue time and id,
/// and the next refresh token is derived from the consumed one and the key, so a retry gets
/// the same pair without any token being stored in plain text. Only within
/// ``retryWindow`` and while that next token is unused; otherwise it is a replay.
struct RefreshTokenRepository: Sendable {
    let collection: MongoCollection

    /// How long after a refresh the same request may be sent again.
    static let retryWindow: TimeInterval = 600

    /// What a refresh with an idempotency key records on the token it consumes.
    struct Retry: Equatable, Sendable {
        var key: String
        /// The access token's `iat`, whole seconds since 1970.
        var issuedAt: Int64
        /// The access token's `jti`.
        var tokenID: String
    }

    enum Consumption: Sendable {
        case consumed(userID: String, family: String)
        /// The same refresh again with its key: answer what the first one answered.
        case retried(userID: String, family: String, retry: Retry)
        case reused(family: String)
        case invalid
    }

    func prepare() async throws {
        try await collection.createIndex(name: "family", keys: ["family": .int(1)])
    }

    static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    /// A new random token (256 bits, base64url) stored under `family`.
    func issue(userID: String, family: String, ttl: Int) async throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        let token = Data(bytes).base64URLEncoded
        try await store(token, userID: userID, family: family, ttl: ttl)
        return token
    }

    /// The token that follows `parent` when it is refreshed with `key`: HMAC-SHA256 keyed
    /// with the parent (a secret only its holder and this request know), so the same refresh
    /// sent again yields the same token and nobody without the parent can compute it.
    static func successor(of parent: String, key: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Data("natswire refresh retry\u{0}\(key)".utf8), using: SymmetricKey(data: Data(parent.utf8)))
        return Data(code).base64URLEncoded
    }

    /// Stores the successor of `parent` for `key` (already stored by the first attempt: fine).
    func issueSuccessor(of parent: String, key: String, userID: String, family: String, ttl: Int) async throws
        -> String
    {
        let token = Self.successor(of: parent, key: key)
        do {
            try await store(token, userID: userID, family: family, ttl: ttl)
        } catch let error as MongoError where error.kind == .duplicateKey {
            // Stored by the first attempt, or by a retry running at the same moment.
        }
        return token
    }

    private func store(_ token: String, userID: String, family: String, ttl: Int) async throws {
        let now = Date()
        try await collection.insertOne([
            "_id": .string(Self.hash(token)), "family": .string(family), "user_id": .string(userID),
            "created_at": .date(now), "expires_at": .date(now.addingTimeInterval(TimeInterval(ttl))),
            "used": .bool(false), "revoked": .bool(false),
        ])
    }

    /// Marks the token used, atomically: of two concurrent uses exactly one succeeds. With
    /// `retry`, the use records it, and a later use with the same key is ``Consumption/retried``.
    func consume(_ token: String, retry: Retry? = nil) async throws -> Consumption {
        let id = Self.hash(token)
        let now = Date()
        var update: [(String, MongoValue)] = [("used", .bool(true)), ("used_at", .date(now))]
        if let retry {
            update.append(
                (
                    "retry",
                    .document([
                        "key": .string(retry.key), "iat": .int(retry.issuedAt), "jti": .string(retry.tokenID),
                    ])
                ))
        }
        if let document = try await collection.findOneAndUpdate(
            ["_id": .string(id), "used": .bool(false), "revoked": .bool(false)],
            ["$set": .document(MongoDocument(update))], returnNew: false)
        {
            guard let family = document["family"]?.string, let user = document["user_id"]?.string else {
                return .invalid
            }
            if let expires = document["expires_at"]?.date, expires <= now { return .invalid }
            return .consumed(userID: user, family: family)
        }
        // Not usable: a token we know (used or revoked) is a replay, unless it is this
        // refresh sent again; anything else is junk.
        guard let known = try await collection.findOne(["_id": .string(id)]),
            let family = known["family"]?.string
        else {
            return .invalid
        }
        if let key = retry?.key, let earlier = try await earlierRetry(known, token: token, key: key, now: now)
        {
            return earlier
        }
        return .reused(family: family)
    }

    /// The first refresh of `known` when it had `key`, was recent, the family stands and the
    /// token it gave has not been used.
    private func earlierRetry(_ known: MongoDocument, token: String, key: String, now: Date) async throws
        -> Consumption?
    {
        guard known["revoked"]?.bool == false, let recorded = known["retry"]?.document,
            recorded["key"]?.string == key, let issuedAt = recorded["iat"]?.int,
            let tokenID = recorded["jti"]?.string,
            let usedAt = known["used_at"]?.date, now.timeIntervalSince(usedAt) <= Self.retryWindow,
            let family = known["family"]?.string, let user = known["user_id"]?.string
        else { return nil }
        let next = try await collection.findOne([
            "_id": .string(Self.hash(Self.successor(of: token, key: key)))
        ])
        if let next, next["used"]?.bool != false || next["revoked"]?.bool != false { return nil }
        return .retried(
            userID: user, family: family, retry: Retry(key: key, issuedAt: issuedAt, tokenID: tokenID))
    }

    func revoke(family: String) async throws {
        try await collection.updateMany(
            ["family": .string(family), "revoked": .bool(false)],
            ["$set": .document(["revoked": .bool(true)])])
    }
}

/// Failed logins per email, stored so a restart does not reset them.
struct LoginThrottle: Sendable {
    let collection: MongoCollection
    let maxFailures: Int
    let lockout: TimeInterval

    /// When the email may try again, if it is locked now.
    func lockedUntil(_ email: String) async throws -> Date? {
        guard let document = try await collection.findOne(["_id": .string(email)]),
            let until = document["locked_until"]?.date, until > Date()
        else { return nil }
        return until
    }

    func recordFailure(_ email: String) async throws {
        let updated = try await collection.findOneAndUpdate(
            ["_id": .string(email)], ["$inc": .document(["failures": .int(1)])], upsert: true)
        if let failures = updated?["failures"]?.int, failures >= Int64(maxFailures) {
            try await collection.updateOne(
                ["_id": .string(email)],
                [
                    "$set": .document([
                        "locked_until": .date(Date().addingTimeInterval(lockout)), "failures": .int(0),
                    ])
                ])
        }
    }

    func recordSuccess(_ email: String) async throws {
        try await collection.deleteMany(["_id": .string(email)])
    }
}

/// MongoDB ObjectIds, made here so the insert needs no round trip to learn the id.
enum ObjectID {
    private static let processRandom: [UInt8] = (0..<5).map { _ in UInt8.random(in: 0...255) }
    private static let counter = Atomic<UInt32>(UInt32.random(in: 0...0xFF_FFFF))

    static func generate() -> String {
        let seconds = UInt32(Date().timeIntervalSince1970)
        let count = counter.add(1, ordering: .relaxed).newValue & 0xFF_FFFF
        var bytes: [UInt8] = [
            UInt8(seconds >> 24), UInt8((seconds >> 16) & 0xFF), UInt8((seconds >> 8) & 0xFF),
            UInt8(seconds & 0xFF),
        ]
        bytes += processRandom
        bytes += [UInt8(count >> 16), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
        return Hex.encode(bytes)
    }

    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 24 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

extension Data {
    var base64URLEncoded: String {
        base64EncodedString().replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }
}

extension MongoError: ServiceErrorConvertible {
    /// An unreachable store is a 503 the caller may retry; anything else stays a 500.
    public var serviceError: ServiceError {
        kind == .unavailable
            ? ServiceError(code: 503, message: "the user store is unavailable, try again")
            : ServiceError(code: 500, message: "internal error")
    }
}
