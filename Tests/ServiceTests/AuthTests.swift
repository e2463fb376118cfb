import Contracts
import Foundation
import JWTKit
import NATSWire
import TestHarness
import Testing

/// A nats-server, a document store and the AuthService process, for one test.
final class AuthStack: TestStack, Sendable {
    let nats: NATSServer
    let store: DocumentStore
    let database: String
    let client: NATSClient
    let extraEnvironment: [String: String]
    private let service: ServiceBox

    final class ServiceBox: @unchecked Sendable {
        // @unchecked Sendable: replaced only by the test that owns the stack, between awaits.
        var process: ServiceProcess?
    }

    init(environment: [String: String] = [:]) async throws {
        nats = try NATSServer()
        store = try await DocumentStore.shared()
        database = "auth\(UInt32.random(in: 0...UInt32.max))"
        extraEnvironment = environment
        service = ServiceBox()
        client = try await NATSClient.connect(url: nats.url)
        try await startService()
    }

    var environment: [String: String] {
        var env = [
            "NATS_URL": nats.url, "MONGO_URL": store.url(database: database), "BCRYPT_COST": "4",
            "LOG_LEVEL": "info",
        ]
        for (key, value) in extraEnvironment { env[key] = value }
        return env
    }

    func startService() async throws {
        service.process = try await ServiceProcess.start("AuthService", environment: environment)
    }

    /// SIGTERM; returns the exit status.
    @discardableResult
    func stopService() -> Int32? {
        defer { service.process = nil }
        return service.process?.stop()
    }

    var serviceLog: String { service.process?.log ?? "" }

    func shutdown() async {
        stopService()
        await client.close()
        nats.stop()
    }

    /// A request with a JSON body; returns the reply.
    func call(_ subject: String, _ body: some Encodable) async throws -> NATSMessage {
        try await client.request(
            Array(try WireJSON.encoder().encode(body)), to: subject, timeout: .seconds(10))
    }

    func callRaw(_ subject: String, _ json: String) async throws -> NATSMessage {
        try await client.request(json, to: subject, timeout: .seconds(10))
    }

    func decode<T: Decodable>(_ type: T.Type, _ message: NATSMessage) throws -> T {
        if let error = ServiceError(reply: message) {
            throw error
        }
        return try WireJSON.decoder().decode(T.self, from: Data(message.payload))
    }

    func register(_ username: String, _ email: String, _ password: String = "correct horse") async throws
        -> UserView
    {
        try decode(
            UserView.self,
            try await call(
                AuthSubject.register,
                RegisterUserRequest(username: username, email: email, password: password)))
    }

    func login(_ email: String, _ password: String = "correct horse") async throws -> TokenPair {
        try decode(
            TokenPair.self, try await call(AuthSubject.login, LoginRequest(email: email, password: password)))
    }
}

func errorCode(_ message: NATSMessage) -> Int? { ServiceError(reply: message)?.code }

func withAuthStack(environment: [String: String] = [:], _ body: (AuthStack) async throws -> Void) async throws
{
    try await withStack({ try await AuthStack(environment: environment) }, body)
}

@Suite("AuthService against nats-server and a MongoDB-protocol store", .serialized, .timeLimit(.minutes(5)))
struct AuthTests {
    @Test func longPasswordsCountEveryCharacter() async throws {
        try await withAuthStack { stack in
            // 72 characters of 4-byte UTF-8: 288 bytes, beyond bcrypt's 72.
            let long = String(repeating: "🔑", count: 71) + "a"
            let differsAtTheEnd = String(repeating: "🔑", count: 71) + "b"
            _ = try await stack.register("longpass", "long@example.com", long)
            #expect(try await stack.login("long@example.com", long).access_token.isEmpty == false)
            // Only the last character differs: without the SHA-256 step bcrypt would not see it.
            let wrong = try await stack.call(
                AuthSubject.login, LoginRequest(email: "long@example.com", password: differsAtTheEnd))
            #expect(errorCode(wrong) == 401)
            let tooLong = try await stack.call(
                AuthSubject.register,
                RegisterUserRequest(username: "toolong", email: "too@example.com", password: long + "x"))
            #expect(errorCode(tooLong) == 400)
        }
    }

    @Test func registerValidatesAndRejectsDuplicates() async throws {
        try await withAuthStack { stack in
            let user = try await stack.register("alice", "Alice@Example.COM")
            #expect(user.email == "alice@example.com" && user.username == "alice" && user.roles == ["user"])
            #expect(user.id.count == 24)

            let duplicate = try await stack.call(
                AuthSubject.register,
                RegisterUserRequest(username: "alice2", email: "Alice@Example.COM", password: "long enough")
            )
            #expect(errorCode(duplicate) == 409)

            let bad = try await stack.call(
                AuthSubject.register,
                RegisterUserRequest(username: "al", email: "not-an-email", password: "short"))
            #expect(errorCode(bad) == 400)
            let body = try JSONSerialization.jsonObject(with: Data(bad.payload)) as? [String: Any]
            let fields = body?["errors"] as? [String: String]
            #expect(Set(fields?.keys.map { $0 } ?? []) == ["username", "email", "password"])

            for (json, field) in [
                (#"{"username":"bob","email":"b@x.io"}"#, "password"),
                (#"{"username":5,"email":"b@x.io","password":"12345678"}"#, "username"),
                (#"not json"#, "body"),
            ] {
                let reply = try await stack.callRaw(AuthSubject.register, json)
                #expect(errorCode(reply) == 400, "\(json)")
                #expect(ServiceError(reply: reply)?.message.contains(field) == true, "\(json)")
            }
        }
    }

    @Test func concurrentDuplicateRegistrationHasExactlyOneWinner() async throws {
        try await withAuthStack { stack in
            let codes = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        let reply = try await stack.call(
                            AuthSubject.register,
                            RegisterUserRequest(
                                username: "racer\(i)", email: "race@example.com", password: "password\(i)"))
                        return errorCode(reply) ?? 200
                    }
                }
                var out: [Int] = []
                for try await code in group { out.append(code) }
                return out
            }
            #expect(codes.filter { $0 == 200 }.count == 1)
            #expect(codes.filter { $0 == 409 }.count == 19)
        }
    }

    @Test func loginIssuesVerifiableTokens() async throws {
        try await withAuthStack { stack in
            let user = try await stack.register("carol", "carol@example.com")
            let pair = try await stack.login("CAROL@example.com")
            #expect(pair.token_type == "Bearer" && pair.expires_in == 900 && !pair.refresh_token.isEmpty)

            let jwks = try await stack.client.request([UInt8](), to: AuthSubject.jwks)
            let keys = JWTKeyCollection()
            try await keys.add(jwksJSON: jwks.string)
            let claims = try await keys.verify(pair.access_token, as: AccessTokenClaims.self)
            #expect(claims.sub.value == user.id)
            #expect(
                claims.email == "carol@example.com" && claims.username == "carol" && claims.roles == ["user"])
            #expect(claims.iss?.value == "natswire-auth" && claims.aud?.value == ["natswire-api"])
            #expect(claims.iat.map { claims.exp.value.timeIntervalSince($0.value) } == 900)
            #expect(claims.jti?.value.isEmpty == false)
            let header =
                try JSONSerialization.jsonObject(
                    with: Data(base64URL: String(pair.access_token.split(separator: ".")[0])) ?? Data())
                as? [String: Any]
            #expect(header?["alg"] as? String == "EdDSA")
            let jwksObject = try JSONSerialization.jsonObject(with: Data(jwks.payload)) as? [String: Any]
            let firstKey = (jwksObject?["keys"] as? [[String: Any]])?.first
            #expect(header?["kid"] as? String == firstKey?["kid"] as? String)
            #expect(firstKey?["d"] == nil)  // the private part never leaves the service
        }
    }

    @Test func loginFailuresLookTheSame() async throws {
        try await withAuthStack { stack in
            _ = try await stack.register("dave", "dave@example.com")
            let wrongPassword = try await stack.call(
                AuthSubject.login, LoginRequest(email: "dave@example.com", password: "nope nope"))
            let unknownEmail = try await stack.call(
                AuthSubject.login, LoginRequest(email: "nobody@example.com", password: "nope nope"))
            #expect(errorCode(wrongPassword) == 401 && errorCode(unknownEmail) == 401)
            #expect(ServiceError(reply: wrongPassword)?.message == ServiceError(reply: unknownEmail)?.message)
            #expect(wrongPassword.payload == unknownEmail.payload)
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        try await withAuthStack { stack in
            _ = try await stack.register("erin", "erin@example.com")
            let first = try await stack.login("erin@example.com")
            let second = try stack.decode(
                TokenPair.self,
                try await stack.call(AuthSubject.refresh, RefreshRequest(refresh_token: first.refresh_token)))
            #expect(second.refresh_token != first.refresh_token)
            let third = try stack.decode(
                TokenPair.self,
                try await stack.call(AuthSubject.refresh, RefreshRequest(refresh_token: second.refresh_token))
            )
            // Replaying a consumed token: refused, and the whole family is revoked.
            let replay = try await stack.call(
                AuthSubject.refresh, RefreshRequest(refresh_token: first.refresh_token))
            #expect(errorCode(replay) == 401)
            #expect(ServiceError(reply: replay)?.message.contains("reuse") == true)
            let afterRevocation = try await stack.call(
                AuthSubject.refresh, RefreshRequest(refresh_token: third.refresh_token))
            #expect(errorCode(afterRevocation) == 401)
            // Another login is another family, unaffected.
            let other = try await stack.login("erin@example.com")
            let fine = try await stack.call(
                AuthSubject.refresh, RefreshRequest(refresh_token: other.refresh_token))
            #expect(errorCode(fine) == nil)
            let junk = try await stack.call(AuthSubject.refresh, RefreshRequest(refresh_token: "junk"))
            #expect(errorCode(junk) == 401)
        }
    }

    @Test func logoutRevokesAndMeFindsTheUser() async throws {
        try await withAuthStack { stack in
            let user = try await stack.register("frank", "frank@example.com")
            let pair = try await stack.login("frank@example.com")
            let me = try stack.decode(
                UserView.self, try await stack.call(AuthSubject.me, MeRequest(user_id: user.id)))
            #expect(me == user)
            let missing = try await stack.call(AuthSubject.me, MeRequest(user_id: "000000000000000000000000"))
            #expect(errorCode(missing) == 404)
            let logout = try await stack.call(
                AuthSubject.logout, RefreshRequest(refresh_token: pair.refresh_token))
            #expect(errorCode(logout) == nil)
            let refresh = try await stack.call(
                AuthSubject.refresh, RefreshRequest(refresh_token: pair.refresh_token))
            #expect(errorCode(refresh) == 401)
        }
    }

    @Test func failedLoginsAreThrottledAcrossRestarts() async throws {
        try await withAuthStack(environment: ["LOGIN_MAX_FAILURES": "3", "LOGIN_LOCKOUT_SECONDS": "600"]) {
            stack in
            _ = try await stack.register("gina", "gina@example.com")
            for _ in 0..<3 {
                let reply = try await stack.call(
                    AuthSubject.login, LoginRequest(email: "gina@example.com", password: "wrong wrong"))
                #expect(errorCode(reply) == 401)
            }
            let locked = try await stack.call(
                AuthSubject.login, LoginRequest(email: "gina@example.com", password: "correct horse"))
            #expect(errorCode(locked) == 429)
            #expect(stack.stopService() == 0)
            try await stack.startService()
            let stillLocked = try await stack.call(
                AuthSubject.login, LoginRequest(email: "gina@example.com", password: "correct horse"))
            #expect(errorCode(stillLocked) == 429)
        }
    }

    @Test func restartKeepsUsersAndSigningKeys() async throws {
        try await withAuthStack { stack in
            _ = try await stack.register("hank", "hank@example.com")
            let before = try await stack.client.request([UInt8](), to: AuthSubject.jwks).payload
            let token = try await stack.login("hank@example.com").access_token
            #expect(stack.stopService() == 0)  // SIGTERM drains and exits 0
            try await stack.startService()
            let after = try await stack.client.request([UInt8](), to: AuthSubject.jwks).payload
            #expect(before == after)
            // A token from before the restart still verifies with the keys after it.
            let keys = JWTKeyCollection()
            try await keys.add(jwksJSON: String(decoding: after, as: UTF8.self))
            _ = try await keys.verify(token, as: AccessTokenClaims.self)
            _ = try await stack.login("hank@example.com")
        }
    }

    @Test func servicesAPIRepliesValidate() async throws {
        try await withAuthStack { stack in
            let ping = try await stack.client.request([UInt8](), to: "$SRV.PING.auth")
            let info = try await stack.client.request([UInt8](), to: "$SRV.INFO.auth")
            let stats = try await stack.client.request([UInt8](), to: "$SRV.STATS.auth")
            let verdict = try validateAgainstMicroSchema([
                ("ping_response.json", ping.payload), ("info_response.json", info.payload),
                ("stats_response.json", stats.payload),
            ])
            #expect(verdict == "valid")
            #expect(info.string.contains("auth.loginUser") && info.string.contains("auth.jwks"))
        }
    }

    @Test func hs256CompatibilityMode() async throws {
        let secret = String(repeating: "k", count: 40)
        try await withAuthStack(environment: ["JWT_ALGORITHM": "HS256", "SECRET_KEY": secret]) { stack in
            _ = try await stack.register("judy", "judy@example.com")
            let token = try await stack.login("judy@example.com").access_token
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            #expect(claims.email == "judy@example.com")
        }
    }
}

extension Data {
    init?(base64URL: String) {
        var text = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        self.init(base64Encoded: text)
    }
}
