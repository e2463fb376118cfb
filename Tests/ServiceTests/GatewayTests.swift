import Contracts
import Foundation
import JWTKit
import NATSWire
import Synchronization
import TestHarness
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The whole system: nats-server, PostgreSQL, the document store, the three services and
/// the gateway, each its own process; HTTP through URLSession.
final class FullStack: TestStack, Sendable {
    let nats: NATSServer
    /// JetStream's storage, when the stack has it.
    let storage: URL?
    let baseString: String
    private let processes: Box

    final class Box: @unchecked Sendable {
        // @unchecked Sendable: changed only by the test that owns the stack, between awaits.
        var byName: [String: ServiceProcess] = [:]
    }

    let environments: [String: [String: String]]

    /// How the processes reach NATS: by default an open server; `secured` gives a server
    /// with the system's NKey permissions and TLS, and each process its own identity.
    struct NATSAccess: Sendable {
        var serverConfig: String?
        var scheme = "nats"
        /// Extra environment of each process, by executable name.
        var environment: @Sendable (String) -> [String: String] = { _ in [:] }

        static let open = NATSAccess()

        /// The config `scripts/up.sh` generates (NKey users with least permissions) plus TLS
        /// with test certificates; processes get their seed, the CA and `tls://`.
        static func secured() throws -> NATSAccess {
            let (authConfig, secrets) = try NATSPermissionTests.generateConfig()
            let certificates = try TestCertificates()
            let users = [
                "AuthService": "auth", "CustomersService": "customers", "ProductsService": "products",
                "Gateway": "gateway",
            ]
            return NATSAccess(
                serverConfig: authConfig + "\n" + certificates.serverConfig(), scheme: "tls",
                environment: { executable in
                    var environment = [
                        "NATS_TLS_CA": certificates.caFile,
                        "NATS_NKEY_SEED_FILE": secrets.appendingPathComponent(
                            "nats-\(users[executable] ?? "").nk"
                        ).path,
                    ]
                    // Each user may receive replies only on its own inbox.
                    environment["NATS_INBOX_PREFIX"] = "_INBOX.\(users[executable] ?? "")"
                    return environment
                })
        }
    }

    init(
        gatewayEnvironment: [String: String] = [:], authEnvironment: [String: String] = [:],
        access: NATSAccess = .open, jetStream: Bool = false
    ) async throws {
        // With JetStream, the auth service's events only: the data services' relays would
        // compete for the shared PostgreSQL's lease with the event tests' stacks.
        storage =
            jetStream
            ? FileManager.default.temporaryDirectory.appendingPathComponent(
                "natswire-js-\(UUID().uuidString.prefix(8))")
            : nil
        nats = try NATSServer(
            config: access.serverConfig, arguments: storage.map { ["-js", "-sd", $0.path] } ?? [])
        let natsURL = "\(access.scheme)://127.0.0.1:\(nats.port)"
        let postgres = try await PostgresServer.shared()
        let store = try await DocumentStore.shared()
        let port = try freePort()
        baseString = "http://127.0.0.1:\(port)"
        var environments: [String: [String: String]] = [
            "AuthService": [
                "NATS_URL": natsURL,
                "MONGO_URL": store.url(database: "gw\(UInt32.random(in: 0...UInt32.max))"),
                "BCRYPT_COST": "4",
            ].merging(authEnvironment) { $1 },
            "Gateway": ["NATS_URL": natsURL, "HTTP_PORT": String(port), "REQUEST_TIMEOUT_MS": "2000"]
                .merging(gatewayEnvironment) { $1 },
        ]
        environments["CustomersService"] = DataStack.environment(
            "CustomersService", nats: nats, postgres: postgres)
        environments["ProductsService"] = DataStack.environment(
            "ProductsService", nats: nats, postgres: postgres)
        if jetStream {
            environments["CustomersService"]?["EVENTS"] = "off"
            environments["ProductsService"]?["EVENTS"] = "off"
        }
        for (name, environment) in environments {
            var merged = environment.merging(access.environment(name)) { $1 }
            merged["NATS_URL"] = natsURL
            environments[name] = merged
        }
        self.environments = environments
        processes = Box()
        for name in ["AuthService", "CustomersService", "ProductsService", "Gateway"] {
            try await start(name)
        }
    }

    func start(_ name: String) async throws {
        processes.byName[name] = try await ServiceProcess.start(name, environment: environments[name] ?? [:])
    }

    /// A second instance of a service, stopped by the caller.
    func startAnother(_ name: String) async throws -> ServiceProcess {
        try await ServiceProcess.start(name, environment: environments[name] ?? [:])
    }

    /// What a running process has logged so far.
    func log(of name: String) -> String { processes.byName[name]?.log ?? "" }

    func stop(_ name: String) {
        processes.byName[name]?.stop()
        processes.byName[name] = nil
    }

    func shutdown() {
        for name in ["Gateway", "ProductsService", "CustomersService", "AuthService"] { stop(name) }
        nats.stop()
        if let storage { try? FileManager.default.removeItem(at: storage) }
    }

    typealias Reply = HTTPReply

    func send(
        _ method: String, _ path: String, json: Any? = nil, raw: String? = nil, token: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> Reply {
        try await sendHTTP(
            baseString, method, path, json: json, raw: raw, token: token, headers: headers)
    }

    func sendText(_ path: String) async throws -> String {
        guard let url = URL(string: baseString + path) else { throw HarnessError("bad path \(path)") }
        let (data, _) = try await URLSession.shared.data(from: url)
        return String(decoding: data, as: UTF8.self)
    }

    /// The gateway's `/metrics` once it holds every line of `expected` (Hummingbird records
    /// a request after its response is written), or after 20 s with the lines still missing.
    func gatewayMetrics(containing expected: [String]) async -> (text: String, missing: [String]) {
        var text = ""
        _ = await eventually(timeout: .seconds(20)) {
            text = (try? await sendText("/metrics")) ?? ""
            return expected.allSatisfy(text.contains)
        }
        return (text, expected.filter { !text.contains($0) })
    }

    /// Registers and logs in a fresh user; returns the token pair.
    func login() async throws -> [String: Any] {
        let email = "u\(UInt32.random(in: 0...UInt32.max))@example.com"
        let registered = try await send(
            "POST", "/auth/register", json: ["username": "user", "email": email, "password": "password1"])
        #expect(registered.status == 201)
        let login = try await send("POST", "/auth/login", json: ["email": email, "password": "password1"])
        #expect(login.status == 200)
        return login.object
    }
}

/// An HTTP response as the tests read it.
struct HTTPReply {
    let status: Int
    let json: Any?
    let headers: [String: String]
    var object: [String: Any] { json as? [String: Any] ?? [:] }
}

/// One HTTP request to the gateway at `base`, through URLSession.
func sendHTTP(
    _ base: String, _ method: String, _ path: String, json: Any? = nil, raw: String? = nil,
    token: String? = nil, headers: [String: String] = [:]
) async throws -> HTTPReply {
    guard let url = URL(string: base + path) else { throw HarnessError("bad path \(path)") }
    var request = URLRequest(url: url)
    request.httpMethod = method
    if let json {
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    if let raw { request.httpBody = Data(raw.utf8) }
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    var fields: [String: String] = [:]
    for (key, value) in http?.allHeaderFields ?? [:] { fields["\(key)".lowercased()] = "\(value)" }
    return HTTPReply(
        status: http?.statusCode ?? 0, json: try? JSONSerialization.jsonObject(with: data), headers: fields)
}

func withFullStack(
    gatewayEnvironment: [String: String] = [:], authEnvironment: [String: String] = [:],
    access: FullStack.NATSAccess = .open, jetStream: Bool = false, _ body: (FullStack) async throws -> Void
) async throws {
    try await withStack(
        {
            try await FullStack(
                gatewayEnvironment: gatewayEnvironment, authEnvironment: authEnvironment, access: access,
                jetStream: jetStream)
        },
        body)
}

@Suite("Gateway end to end over HTTP", .serialized, .timeLimit(.minutes(5)))
struct GatewayTests {
    @Test func authFlowOverHTTP() async throws {
        try await withFullStack { stack in
            let tokens = try await stack.login()
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            #expect(tokens["token_type"] as? String == "Bearer" && tokens["expires_in"] as? Int == 900)
            let me = try await stack.send("GET", "/auth/me", token: access)
            #expect(me.status == 200 && (me.object["email"] as? String)?.hasSuffix("@example.com") == true)
            let refreshed = try await stack.send("POST", "/auth/refresh", json: ["refresh_token": refresh])
            #expect(refreshed.status == 200)
            let newRefresh = refreshed.object["refresh_token"] as? String ?? ""
            let logout = try await stack.send(
                "POST", "/auth/logout", json: ["refresh_token": newRefresh], token: access)
            #expect(logout.status == 200)
            #expect(
                try await stack.send("POST", "/auth/refresh", json: ["refresh_token": newRefresh]).status
                    == 401)
            let duplicate = try await stack.send(
                "POST", "/auth/register",
                json: [
                    "username": "user", "email": (me.object["email"] as? String) ?? "",
                    "password": "password1",
                ])
            #expect(
                duplicate.status == 409 && duplicate.headers["content-type"] == "application/problem+json")
            let bad = try await stack.send("POST", "/auth/register", json: ["username": 5, "extra": true])
            #expect(bad.status == 400)
            #expect(
                Set((bad.object["errors"] as? [String: String] ?? [:]).keys) == [
                    "username", "email", "password", "extra",
                ])
            #expect(try await stack.send("POST", "/auth/login", raw: "{not json").status == 400)
        }
    }

    @Test func idempotencyKeyMakesARetriedCreateSafe() async throws {
        try await withFullStack { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            let name = "Keyed \(UUID().uuidString.prefix(8))"
            let key = UUID().uuidString
            let first = try await stack.send(
                "POST", "/products", json: ["product_name": name], token: token,
                headers: ["Idempotency-Key": key])
            let again = try await stack.send(
                "POST", "/products", json: ["product_name": name], token: token,
                headers: ["Idempotency-Key": key])
            #expect(first.status == 201 && again.status == 201)
            #expect(first.object["product_id"] as? Int == again.object["product_id"] as? Int)
            let other = try await stack.send(
                "POST", "/products", json: ["product_name": name + " 2"], token: token,
                headers: ["Idempotency-Key": key])
            #expect(other.status == 422 && other.headers["content-type"] == "application/problem+json")
            let bad = try await stack.send(
                "POST", "/products", json: ["product_name": name], token: token,
                headers: ["Idempotency-Key": "has spaces"])
            #expect(bad.status == 400)
            #expect((bad.object["errors"] as? [String: String])?["Idempotency-Key"] != nil)
            let page = try await stack.send(
                "GET", "/products?search=\(name.replacingOccurrences(of: " ", with: "%20"))", token: token)
            #expect(page.object["total"] as? Int == 1, "one product for the key, whatever the retries")
        }
    }

    @Test func idempotencyKeyMakesARetriedRefreshSafe() async throws {
        try await withFullStack { stack in
            let login = try await stack.login()
            let parent = try #require(login["refresh_token"] as? String)
            let key = UUID().uuidString
            func refresh(_ token: String, key: String?) async throws -> HTTPReply {
                try await stack.send(
                    "POST", "/auth/refresh", json: ["refresh_token": token],
                    headers: key.map { ["Idempotency-Key": $0] } ?? [:])
            }
            // The answer was lost and the client sends the same refresh again: the same pair,
            // not a replay that revokes the login.
            let first = try await refresh(parent, key: key)
            let again = try await refresh(parent, key: key)
            #expect(first.status == 200 && again.status == 200)
            #expect(first.object["refresh_token"] as? String == again.object["refresh_token"] as? String)
            #expect(first.object["access_token"] as? String == again.object["access_token"] as? String)
            let access = try #require(again.object["access_token"] as? String)
            #expect(try await stack.send("GET", "/auth/me", token: access).status == 200)

            // Another key with the same token is a replay, as before.
            let child = try #require(first.object["refresh_token"] as? String)
            let grandchild = try await refresh(child, key: UUID().uuidString)
            #expect(grandchild.status == 200)
            // Once the pair it gave was used, the first refresh sent again is a replay too:
            // refused, and the family revoked.
            let late = try await refresh(parent, key: key)
            #expect(late.status == 401)
            let revoked = try #require(grandchild.object["refresh_token"] as? String)
            #expect(try await refresh(revoked, key: nil).status == 401)
        }
    }

    @Test(.timeLimit(.minutes(2))) func adminsFollowTheEventsOverServerSentEvents() async throws {
        let admin = "admin\(UInt32.random(in: 0...UInt32.max))@example.com"
        try await withFullStack(authEnvironment: ["ADMIN_EMAILS": admin], jetStream: true) { stack in
            _ = try await stack.send(
                "POST", "/auth/register", json: ["username": "root", "email": admin, "password": "password1"])
            let login = try await stack.send(
                "POST", "/auth/login", json: ["email": admin, "password": "password1"])
            let adminToken = try #require(login.object["access_token"] as? String)
            let userToken = try #require(try await stack.login()["access_token"] as? String)
            #expect(try await stack.send("GET", "/events", token: userToken).status == 403)
            #expect(try await stack.send("GET", "/events").status == 401)
            #expect(try await stack.send("GET", "/events?after=x", token: adminToken).status == 400)

            // Replay from the start, then live: a registration made while the stream is open
            // arrives as its own event.
            let connection = try RawHTTPConnection(port: stack.port)
            connection.send(
                "GET /events?after=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(adminToken)\r\n\r\n")
            let replayed = try await offThePool { connection.read(until: "event: auth.events.registered") }
            #expect(replayed.hasPrefix("HTTP/1.1 200") && replayed.lowercased().contains("text/event-stream"))
            #expect(replayed.contains("id: 1\n"), "replayed from the first event")
            let late = "late\(UInt32.random(in: 0...UInt32.max))@example.com"
            _ = try await stack.send(
                "POST", "/auth/register", json: ["username": "late", "email": late, "password": "password1"])
            let live = try await offThePool { connection.read(until: late) }
            #expect(live.contains("event: auth.events.registered\ndata: {"))
        }
    }

    @Test func tokensAreCheckedStrictly() async throws {
        try await withFullStack { stack in
            #expect(
                try await stack.send("GET", "/customers").headers["www-authenticate"]?.hasPrefix("Bearer")
                    == true)
            #expect(try await stack.send("GET", "/customers").status == 401)
            // alg none, an unsigned token claiming to be anyone.
            let none =
                "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJuYXRzd2lyZS1hdXRoIiwiYXVkIjoibmF0c3dpcmUtYXBpIn0."
            #expect(try await stack.send("GET", "/customers", token: none).status == 401)
            // Signed by another Ed25519 key with the same claims.
            let otherKeys = JWTKeyCollection()
            await otherKeys.add(eddsa: try EdDSA.PrivateKey(curve: .ed25519), kid: "intruder")
            let forged = try await otherKeys.sign(
                testClaims(exp: Date().addingTimeInterval(600)), kid: "intruder")
            #expect(try await stack.send("GET", "/customers", token: forged).status == 401)
            // HS256 signed with the public key (algorithm confusion).
            let jwks =
                try JSONSerialization.jsonObject(with: Data(try await fetchJWKS(stack))) as? [String: Any]
            let x = ((jwks?["keys"] as? [[String: Any]])?.first?["x"] as? String) ?? ""
            let confused = JWTKeyCollection()
            await confused.add(hmac: HMACKey(from: x), digestAlgorithm: .sha256)
            let confusion = try await confused.sign(testClaims(exp: Date().addingTimeInterval(600)))
            #expect(try await stack.send("GET", "/customers", token: confusion).status == 401)
            // A real token works, tampered it does not.
            let access = try #require(try await stack.login()["access_token"] as? String)
            #expect(try await stack.send("GET", "/customers", token: access).status == 200)
            var tampered = Array(access)
            tampered[tampered.count - 5] = tampered[tampered.count - 5] == "A" ? "B" : "A"
            #expect(try await stack.send("GET", "/customers", token: String(tampered)).status == 401)
        }
    }

    @Test func hs256ExpiryIssuerAndAudience() async throws {
        let secret = String(repeating: "s", count: 40)
        try await withFullStack(
            gatewayEnvironment: ["JWT_ALGORITHM": "HS256", "SECRET_KEY": secret],
            authEnvironment: ["JWT_ALGORITHM": "HS256", "SECRET_KEY": secret]
        ) { stack in
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            let good = try await keys.sign(testClaims(exp: Date().addingTimeInterval(600)))
            #expect(try await stack.send("GET", "/categories", token: good).status == 200)
            let expired = try await keys.sign(testClaims(exp: Date().addingTimeInterval(-60)))
            #expect(try await stack.send("GET", "/categories", token: expired).status == 401)
            let notYet = try await keys.sign(
                testClaims(exp: Date().addingTimeInterval(600), nbf: Date().addingTimeInterval(300)))
            #expect(try await stack.send("GET", "/categories", token: notYet).status == 401)
            let wrongIssuer = try await keys.sign(
                testClaims(exp: Date().addingTimeInterval(600), iss: "someone-else"))
            #expect(try await stack.send("GET", "/categories", token: wrongIssuer).status == 401)
            let wrongAudience = try await keys.sign(
                testClaims(exp: Date().addingTimeInterval(600), aud: "other-api"))
            #expect(try await stack.send("GET", "/categories", token: wrongAudience).status == 401)
            let issued = try #require(try await stack.login()["access_token"] as? String)
            #expect(try await stack.send("GET", "/auth/me", token: issued).status == 200)
        }
    }

    @Test func dataRoutesAliasesAndErrors() async throws {
        try await withFullStack { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            let list = try await stack.send("GET", "/products/findAll?page=1&limit=20", token: token)
            #expect(
                list.status == 200 && (list.object["data"] as? [Any])?.count == 20
                    && list.object["limit"] as? Int == 20)
            #expect(try await stack.send("GET", "/products?limit=abc", token: token).status == 400)
            #expect(try await stack.send("GET", "/products?limit=500", token: token).status == 400)
            #expect(try await stack.send("GET", "/products?color=red", token: token).status == 400)
            #expect(
                try await stack.send("GET", "/products/1", token: token).object["product_name"] as? String
                    == "Chai")
            #expect(try await stack.send("GET", "/products/0", token: token).status == 400)
            #expect(try await stack.send("GET", "/products/32000", token: token).status == 404)
            let created = try await stack.send(
                "POST", "/products/create",
                json: ["product_name": "Gateway tea", "unit_price": 3.5, "category_id": 1], token: token)
            #expect(created.status == 201)
            let id = created.object["product_id"] as? Int ?? 0
            let patched = try await stack.send(
                "PATCH", "/products/\(id)", json: ["unit_price": 4], token: token)
            #expect(patched.status == 200 && patched.object["unit_price"] as? Double == 4)
            #expect(
                try await stack.send("PATCH", "/products/\(id)", json: ["unit_price": "free"], token: token)
                    .status == 400)
            #expect(try await stack.send("DELETE", "/products/\(id)", token: token).status == 200)
            #expect(try await stack.send("DELETE", "/products/1", token: token).status == 409)
            #expect(
                try await stack.send("GET", "/categories/1", token: token).object["category_name"] as? String
                    == "Beverages")
            #expect(try await stack.send("GET", "/suppliers", token: token).status == 200)
            #expect(try await stack.send("GET", "/suppliers/999", token: token).status == 404)

            #expect(try await stack.send("GET", "/customers/findAll", token: token).status == 200)
            let customerID = String((0..<5).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".randomElement() ?? "Q" })
            #expect(
                try await stack.send(
                    "POST", "/customers/create", json: ["customer_id": customerID, "company_name": "GW Ltd"],
                    token: token
                ).status == 201)
            #expect(
                try await stack.send(
                    "PATCH", "/customers/update/\(customerID)", json: ["city": "Oslo"], token: token
                ).object["city"] as? String == "Oslo")
            #expect(
                try await stack.send("DELETE", "/customers/delete/\(customerID)", token: token).status == 200)
            #expect(try await stack.send("DELETE", "/customers/ALFKI", token: token).status == 409)
            #expect(try await stack.send("GET", "/customers/TOOLONG", token: token).status == 400)
            let big = String(repeating: "x", count: 70_000)
            #expect(
                try await stack.send(
                    "POST", "/customers", json: ["customer_id": "ABCDE", "company_name": big], token: token
                ).status == 413)
        }
    }

    @Test func requestIDsAndServiceOutages() async throws {
        try await withFullStack { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            let traced = try await stack.send(
                "GET", "/products/1", token: token, headers: ["X-Request-Id": "trace-123"])
            #expect(traced.headers["x-request-id"] == "trace-123")
            #expect(
                try await stack.send("GET", "/products/1", token: token).headers["x-request-id"]?.isEmpty
                    == false)
            #expect(try await stack.send("GET", "/ready").status == 200)
            stack.stop("ProductsService")
            let down = try await stack.send("GET", "/products/1", token: token)
            #expect(down.status == 503 && down.headers["content-type"] == "application/problem+json")
            #expect(try await stack.send("GET", "/ready").status == 503)
            try await stack.start("ProductsService")
            #expect(try await stack.send("GET", "/products/1", token: token).status == 200)
            #expect(try await stack.send("GET", "/health").status == 200)
            // Hummingbird records a request after its response is written: wait for it.
            let expected = [
                #"http_server_requests_total{http_route="/products/{id}",http_request_method="GET",http_response_status_code="200"}"#,
                #"http_server_requests_total{http_route="/products/{id}",http_request_method="GET",http_response_status_code="503"}"#,
                #"http_server_request_duration_seconds_bucket{http_route="/products/{id}",http_request_method="GET",http_response_status_code="200",le="+Inf"}"#,
                // The GET to the stopped service was sent twice (an idempotent request is
                // retried once when nobody listens), and found nobody both times.
                #"gateway_nats_request_errors_total{kind="noResponders"} 2"#,
                "gateway_nats_request_retries_total 1",
            ]
            let missing = await stack.gatewayMetrics(containing: expected).missing
            #expect(missing.isEmpty, "\(missing)")
        }
    }
}

extension GatewayTests {
    @Test func twoProductsServiceInstancesShareRequests() async throws {
        try await withFullStack { stack in
            let second = try await stack.startAnother("ProductsService")
            defer { second.stop() }
            let token = try #require(try await stack.login()["access_token"] as? String)
            for _ in 0..<60 {
                #expect(try await stack.send("GET", "/products/1", token: token).status == 200)
            }
            let client = try await NATSClient.connect(url: stack.nats.url)
            let stats = try await client.requestMany(
                [], to: "$SRV.STATS.products", timeout: .seconds(10), maxReplies: 2)
            var counts: [Int] = []
            for reply in stats {
                let object = try JSONSerialization.jsonObject(with: Data(reply.payload)) as? [String: Any]
                let endpoints = object?["endpoints"] as? [[String: Any]] ?? []
                let get = endpoints.first { $0["name"] as? String == "findOneProduct" }
                counts.append(get?["num_requests"] as? Int ?? 0)
            }
            await client.close()
            #expect(counts.count == 2)
            #expect(counts.reduce(0, +) == 60)
            #expect(counts.allSatisfy { $0 > 0 })
        }
    }
}

extension GatewayTests {
    /// A replica that takes a GET and dies with it in hand (a queue-group member that leaves
    /// after one message): the gateway sends it again after a share of the deadline, and the
    /// other replica answers. Writes are not sent twice.
    @Test func aGetLostWithAReplicaIsRetriedOnAnother() async throws {
        try await withFullStack(gatewayEnvironment: ["REQUEST_TIMEOUT_MS": "3000"]) { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            let client = try await NATSClient.connect(url: stack.nats.url)
            let doomed = try client.subscribe(to: ProductsSubject.get, queue: "q")
            try doomed.unsubscribe(after: 1)
            try await client.flush()
            let taken = Atomic<Bool>(false)
            let swallowed = Task {
                let messages = try await collect(doomed, count: 1, timeout: .seconds(60))
                taken.store(true, ordering: .releasing)
                return messages
            }
            var statuses: [Int] = []
            // Until the doomed member has taken its one request (the queue group picks at random).
            while !taken.load(ordering: .acquiring) && statuses.count < 200 {
                statuses.append(try await stack.send("GET", "/products/1", token: token).status)
            }
            let lost = try await swallowed.value
            #expect(lost.count == 1)
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            let metrics = try await stack.sendText("/metrics")
            #expect(metrics.contains("gateway_nats_request_retries_total 1"))
            await client.close()
        }
    }

    /// Every pod starting at once (Kubernetes): a gateway that came up before the auth
    /// service has no keys yet, and must fetch them for the first token instead of refusing it.
    @Test func aGatewayStartedBeforeTheAuthServiceAcceptsItsTokens() async throws {
        try await withFullStack { stack in
            stack.stop("Gateway")
            stack.stop("AuthService")
            try await stack.start("Gateway")
            try await stack.start("AuthService")
            #expect(
                await eventually(timeout: .seconds(20)) {
                    (try? await stack.send("GET", "/ready").status) == 200
                })
            let token = try #require(try await stack.login()["access_token"] as? String)
            let read = try await stack.send("GET", "/products/1", token: token)
            #expect(read.status == 200, "\(read.object)")
        }
    }

    /// The OpenAPI document and the routes come from one operation table (`API.swift`):
    /// every documented operation is routed (answers with something other than 404), a
    /// method the document does not list for a path is a 405, and the document is valid
    /// OpenAPI.
    @Test func openAPIDocumentMatchesTheRoutes() async throws {
        try await withFullStack { stack in
            let spec = try await stack.send("GET", "/openapi.json")
            #expect(spec.status == 200)
            let paths = spec.object["paths"] as? [String: [String: Any]] ?? [:]
            var documented = Set<String>()
            for (path, operations) in paths {
                for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            #expect(documented.count == 32, "\(documented.count) operations documented")
            for (path, operations) in paths where path.contains("{id}") && operations["put"] == nil {
                let reply = try await stack.send("PUT", path.replacingOccurrences(of: "{id}", with: "1"))
                #expect(reply.status == 405, "PUT \(path) answered \(reply.status)")
            }

            let token = try #require(try await stack.login()["access_token"] as? String)
            for operation in documented.sorted() {
                let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                let id = parts[1].hasPrefix("/customers") ? "ALFKI" : "1"
                let path = parts[1].replacingOccurrences(of: "{id}", with: id)
                let json: Any? = ["POST", "PATCH"].contains(parts[0]) ? [String: Any]() : nil
                let reply = try await stack.send(parts[0], path, json: json, token: token)
                #expect(reply.status != 404 || path.contains("/auth/me"), "\(operation) answered 404")
            }

            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "openapi-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: spec.object).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let (_, verdict) = try await ChildProcess.run(
                "python3",
                [
                    "-c",
                    "import json,sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')",
                    file.path,
                ])
            #expect(
                verdict.trimmingCharacters(in: .whitespacesAndNewlines) == "valid", "\(verdict.suffix(1500))")
        }
    }
}

func fetchJWKS(_ stack: FullStack) async throws -> [UInt8] {
    let client = try await NATSClient.connect(url: stack.nats.url)
    defer { Task { await client.close() } }
    return try await client.request([UInt8](), to: AuthSubject.jwks).payload
}

/// A token the tests sign themselves: the shared claims type, with what varies.
func testClaims(exp: Date, nbf: Date? = nil, iss: String = "natswire-auth", aud: String = "natswire-api")
    -> AccessTokenClaims
{
    AccessTokenClaims(
        sub: SubjectClaim(value: "000000000000000000000000"), exp: ExpirationClaim(value: exp),
        iss: IssuerClaim(value: iss), aud: AudienceClaim(value: [aud]),
        nbf: nbf.map { NotBeforeClaim(value: $0) })
}
