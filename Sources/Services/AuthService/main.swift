import BlockingCalls
import Contracts
import HummingbirdBcrypt
import Logging
import MongoStore
import NATSWire
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// AuthService: users and identity in MongoDB, served over NATS.
/// handlers (here) → domain (`AuthDomain`) → repositories (`Repositories.swift`).
let summary = "users, login and tokens over NATS (subjects auth.*), stored in MongoDB"
let settings = ProcessSetup.settings(
    service: "AuthService", summary: summary, variables: AuthSettings.variables
) { AuthSettings($0) }
let logger = ProcessSetup.logger(label: "auth-service", json: settings.logJSON, level: settings.logLevel)

do {
    let io = BlockingPool(threads: 8, name: "mongo")
    let hashing = PasswordHasher(
        threads: max(2, ProcessInfo.processInfo.activeProcessorCount),
        budget: .milliseconds(settings.hashQueueBudgetMilliseconds))
    let database = try MongoDatabase(
        url: settings.mongoURL, defaultDatabase: "auth", executor: io, spansIn: ProcessTracing.recordedTraces
    )
    MetricsExport.observePool("mongo") { [io] in
        let (running, queued) = io.load
        return MetricsExport.PoolSample(
            size: io.threadCount, open: io.threadCount, busy: running, waiting: queued,
            connectFailures: database.unavailableCount)
    }
    try await database.ping()
    let users = UserRepository(collection: database.collection("users"))
    let refreshTokens = RefreshTokenRepository(collection: database.collection("refresh_tokens"))
    try await users.prepare()
    try await refreshTokens.prepare()
    let events = MongoEventSource(
        users: database.collection("users"), leases: database.collection("event_relay_leases"),
        settings: settings.events)
    if settings.events.enabled { try await events.prepare() }
    let relay = settings.events.enabled ? EventRelay(source: events, logger: logger) : nil
    let cost = UInt8(settings.bcryptCost)
    let domain = AuthDomain(
        users: users, refreshTokens: refreshTokens,
        throttle: LoginThrottle(
            collection: database.collection("login_failures"), maxFailures: settings.maxLoginFailures,
            lockout: TimeInterval(settings.lockoutSeconds)),
        issuer: try await TokenIssuer.make(settings: settings, keyStore: database.collection("signing_keys")),
        settings: settings, hashing: hashing,
        dummyHash: try await hashing.run { Bcrypt.hash("not a real password", cost: cost) }, relay: relay)

    let app = ServiceApp(
        config: ServiceConfig(
            name: "auth", version: "1.0.0", description: summary, metadata: ["store": "mongodb"]),
        nats: settings.nats, logger: logger)
    try await app.run(
        [
            .json("registerUser", subject: AuthSubject.register) { context, request in
                try await domain.register(
                    request, requestID: context.requestID, idempotencyKey: context.idempotencyKey)
            }
            .answeringOriginal { context, data in
                try await domain.originalRegister(data, requestID: context.requestID)
            },
            .json("loginUser", subject: AuthSubject.login) { _, request in try await domain.login(request) }
                .answeringOriginal { _, data in try await domain.originalLogin(data) },
            .json("refreshToken", subject: AuthSubject.refresh) { context, request in
                try await domain.refresh(request, idempotencyKey: context.idempotencyKey)
            },
            .json("logoutUser", subject: AuthSubject.logout) { _, request in try await domain.logout(request)
            },
            .json("me", subject: AuthSubject.me) { _, request in try await domain.me(request) },
            EndpointDefinition.raw("jwks", subject: AuthSubject.jwks) { _, _ in domain.issuer.jwks },
        ], alongside: { nats in await relay?.run(nats) })
    exit(0)
} catch {
    logger.critical("AuthService failed: \(error)")
    exit(1)
}
