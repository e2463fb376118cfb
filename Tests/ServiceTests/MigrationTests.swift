import Contracts
import Foundation
import JWTKit
import NATSWire
import TestHarness
import Testing

/// The calls of the original NestJS gateway, written from what its source sends (issue 13's
/// table, not its code): a NestJS envelope `{"pattern", "data", "id"}` on the pattern's
/// subject, the reply's `response` or `err` read back. Built with Foundation's JSON, not the
/// project's, so that the two do not share a mistake.
struct OriginalGatewayCalls {
    let client: NATSClient

    enum Answer {
        case response(Any)
        case err(Any)

        var response: Any? { if case .response(let value) = self { value } else { nil } }
        var object: [String: Any] { response as? [String: Any] ?? [:] }
        var isNull: Bool { response is NSNull }
    }

    /// One request; `data` is any JSON value (a bare string or number included).
    func send(_ subject: String, _ data: Any) async throws -> Answer {
        let id = UUID().uuidString
        let envelope: [String: Any] = ["pattern": subject, "data": data, "id": id]
        let reply = try await client.request(
            Array(try JSONSerialization.data(withJSONObject: envelope, options: [.fragmentsAllowed])),
            to: subject,
            timeout: .seconds(10))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(reply.payload), options: [.fragmentsAllowed])
                as? [String: Any])
        #expect(object["id"] as? String == id && object["isDisposed"] as? Bool == true)
        if let err = object["err"], !(err is NSNull) { return .err(err) }
        return .response(object["response"] ?? NSNull())
    }

    /// An event: the envelope without an id, published with `replyTo` (no answer may come).
    func emit(_ subject: String, _ data: Any, replyTo: String) throws {
        let envelope: [String: Any] = ["pattern": subject, "data": data]
        try client.publish(
            Array(try JSONSerialization.data(withJSONObject: envelope)), to: subject, replyTo: replyTo)
    }
}

@Suite(
    "Migration, direction 1: our services behind the original NestJS gateway", .serialized,
    .timeLimit(.minutes(5)))
struct OriginalGatewayToOurServicesTests {
    static let secret = String(repeating: "s", count: 40)

    struct OriginalClaims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
    }

    @Test func authRegisterAndLoginAnswerMessageAndContext() async throws {
        try await withAuthStack(environment: ["JWT_ALGORITHM": "HS256", "SECRET_KEY": Self.secret]) { stack in
            let gateway = OriginalGatewayCalls(client: stack.client)
            let user: [String: Any] = [
                "username": "olga", "email": "Olga@example.com", "password": "password1",
            ]
            let registered = try await gateway.send(AuthSubject.register, user)
            #expect(registered.object["context"] as? Bool == true)
            #expect(registered.object["message"] is String)
            let again = try await gateway.send(AuthSubject.register, user)
            #expect(again.object["context"] as? Bool == false)
            #expect((again.object["message"] as? String)?.contains("already") == true)
            let invalid = try await gateway.send(AuthSubject.register, ["username": "olga"])
            #expect(invalid.object["context"] as? Bool == false)

            let login = try await gateway.send(
                AuthSubject.login, ["email": "olga@example.com", "password": "password1"])
            #expect(login.object["context"] as? Bool == true)
            // The original gateway verifies the token with its HS256 secret; `sub` is the email.
            let token = try #require(login.object["message"] as? String)
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
            let claims = try await keys.verify(token, as: OriginalClaims.self)
            #expect(claims.sub.value == "olga@example.com" && claims.exp.value > Date())
            // The same token works for our own /auth/me lookup (by email then).
            let me = try await stack.call(AuthSubject.me, MeRequest(user_id: claims.sub.value))
            #expect(
                (try? JSONSerialization.jsonObject(with: Data(me.payload)) as? [String: Any])?["username"]
                    as? String == "olga")

            let refused = try await gateway.send(
                AuthSubject.login, ["email": "olga@example.com", "password": "wrong-password"])
            #expect(refused.object["context"] as? Bool == false)
            #expect(refused.object["message"] as? String == "invalid email or password")
        }
    }

    @Test func eventsAreHandledAndNeverAnswered() async throws {
        try await withAuthStack { stack in
            let gateway = OriginalGatewayCalls(client: stack.client)
            let inbox = "_INBOX.events.\(UUID().uuidString)"
            let replies = try stack.client.subscribe(to: inbox)
            // Events that fail (a handler that throws; a refusal), then one that works.
            try gateway.emit(AuthSubject.logout, ["refresh_token": "not-a-token"], replyTo: inbox)
            try gateway.emit(
                AuthSubject.register, ["username": "ivan", "email": "ivan@example.com"], replyTo: inbox)
            try gateway.emit(
                AuthSubject.register,
                ["username": "ivan", "email": "ivan@example.com", "password": "password1"],
                replyTo: inbox)
            let registered = await eventually(timeout: .seconds(20)) {
                let probe = try? await gateway.send(
                    AuthSubject.register,
                    ["username": "probe", "email": "ivan@example.com", "password": "password1"])
                return probe?.object["context"] as? Bool == false
            }
            #expect(registered)
            // A request answered to the same inbox after both events: the first message there
            // must be its answer, not one of the events'.
            let sentinel: [String: Any] = [
                "pattern": AuthSubject.login, "data": ["email": "nobody@example.com", "password": "x"],
                "id": "sentinel",
            ]
            try stack.client.publish(
                Array(try JSONSerialization.data(withJSONObject: sentinel)), to: AuthSubject.login,
                replyTo: inbox)
            let first = try #require(try await collect(replies, count: 1, timeout: .seconds(20)).first)
            #expect(
                (try JSONSerialization.jsonObject(with: Data(first.payload)) as? [String: Any])?["id"]
                    as? String == "sentinel")
        }
    }

    @Test func customersAnswerAsTheOriginalGoService() async throws {
        try await withDataStack(["CustomersService"]) { stack in
            let gateway = OriginalGatewayCalls(client: stack.client)
            // GET /customers/findAll → "" → every customer.
            let all = try #require(
                try await gateway.send(CustomersSubject.list, "").response as? [[String: Any]])
            #expect(all.count >= 91 && all.contains { $0["customer_id"] as? String == "ALFKI" })

            // GET /customers/:id → the bare id → the customer, or null.
            let alfki = try await gateway.send(CustomersSubject.get, "ALFKI")
            #expect(alfki.object["company_name"] as? String == "Alfreds Futterkiste")
            #expect(try await gateway.send(CustomersSubject.get, "ZZZZZ").isNull)
            #expect(try await gateway.send(CustomersSubject.get, "not an id").isNull)

            // POST /customers/create → {customer_id, contact_name, city, country} → the customer.
            let id = uniqueCustomerID()
            let created = try await gateway.send(
                CustomersSubject.create,
                ["customer_id": id, "contact_name": "Maria Test", "city": "Berlin", "country": "Germany"])
            #expect(
                created.object["customer_id"] as? String == id
                    && created.object["city"] as? String == "Berlin")
            let duplicate = try await gateway.send(
                CustomersSubject.create,
                ["customer_id": id, "contact_name": "Again", "city": "X", "country": "Y"])
            #expect((duplicate.object["error"] as? String)?.contains("already exists") == true)
            let invalid = try await gateway.send(CustomersSubject.create, ["customer_id": "toolong"])
            #expect(invalid.object["error"] is String)

            // PATCH /customers/update/:id → {"customer": {...}, "id": ID} → the customer or {"error"}.
            let updated = try await gateway.send(
                CustomersSubject.update, ["customer": ["city": "Oslo", "country": "Norway"], "id": id])
            #expect(
                updated.object["city"] as? String == "Oslo"
                    && updated.object["contact_name"] as? String == "Maria Test")
            let missing = try await gateway.send(
                CustomersSubject.update, ["customer": ["city": "Oslo"], "id": "ZZZZZ"])
            #expect((missing.object["error"] as? String)?.contains("not found") == true)
            let badShape = try await gateway.send(CustomersSubject.update, ["city": "Oslo"])
            #expect(badShape.object["error"] is String)

            // DELETE /customers/delete/:id → "" (the original loses the id): a clear error, nothing deleted.
            let lost = try await gateway.send(CustomersSubject.delete, "")
            #expect((lost.object["error"] as? String)?.contains("missing") == true)
            #expect(try await gateway.send(CustomersSubject.get, id).object["customer_id"] as? String == id)
            // A gateway that sends the id deletes.
            let deleted = try await gateway.send(CustomersSubject.delete, id)
            #expect(deleted.object["deleted"] as? Bool == true)
            #expect(try await gateway.send(CustomersSubject.get, id).isNull)

            // Our own payloads still work beside the envelope.
            #expect(
                try await stack.object(CustomersSubject.get, ["customer_id": "ALFKI"])["customer_id"]
                    as? String == "ALFKI")
        }
    }

    @Test func productsAnswerAsTheOriginalNestService() async throws {
        try await withDataStack(["ProductsService"]) { stack in
            let gateway = OriginalGatewayCalls(client: stack.client)
            // GET /products/findAll?page&limit → {page, limit} (text from a query, or numbers).
            let page = try await gateway.send(ProductsSubject.list, ["page": "2", "limit": "5"]).object
            #expect(page["page"] as? Int == 2 && page["limit"] as? Int == 5)
            #expect((page["data"] as? [Any])?.count == 5)
            let total = try #require(page["total"] as? Int)
            #expect(page["pages"] as? Int == (total + 4) / 5)
            let numbers = try await gateway.send(ProductsSubject.list, ["page": 1, "limit": 3]).object
            #expect((numbers["data"] as? [Any])?.count == 3)

            // GET /products/:id → the bare number → the product, or null.
            let chai = try await gateway.send(ProductsSubject.get, 1)
            #expect(chai.object["product_name"] as? String == "Chai")
            #expect(try await gateway.send(ProductsSubject.get, "1").object["product_id"] as? Int == 1)
            #expect(try await gateway.send(ProductsSubject.get, 32000).isNull)

            // POST /products/create → {product_name, unit_price, units_in_stock} → the product.
            let created = try await gateway.send(
                ProductsSubject.create,
                ["product_name": "Migration tea", "unit_price": 12.5, "units_in_stock": 7])
            let id = try #require(created.object["product_id"] as? Int)
            #expect(created.object["units_in_stock"] as? Int == 7)
            // A bad body is the envelope's err, as TypeORM's exceptions were.
            if case .response = try await gateway.send(ProductsSubject.create, ["unit_price": 1]) {
                Issue.record("a product without a name was accepted")
            }

            // PATCH /products/:id → {"id", "updateProductDto"} → TypeORM's update result.
            let result = try await gateway.send(
                ProductsSubject.update, ["id": id, "updateProductDto": ["unit_price": 9.75]]
            ).object
            #expect(result["affected"] as? Int == 1)
            #expect(
                (result["generatedMaps"] as? [Any])?.isEmpty == true
                    && (result["raw"] as? [Any])?.isEmpty == true)
            #expect(try await gateway.send(ProductsSubject.get, id).object["unit_price"] as? Double == 9.75)
            let none = try await gateway.send(
                ProductsSubject.update, ["id": 32000, "updateProductDto": ["unit_price": 1]])
            #expect(none.object["affected"] as? Int == 0)
            _ = try await stack.call(ProductsSubject.delete, ["product_id": id])
        }
    }
}

/// nats-server, the stand-in original services and our gateway with every upstream `nest`.
final class OriginalServicesStack: TestStack, Sendable {
    static let secret = String(repeating: "o", count: 40)
    let nats: NATSServer
    let client: NATSClient
    let services: OriginalServices
    let gateway: ServiceProcess
    let base: String

    init() async throws {
        nats = try NATSServer()
        client = try await NATSClient.connect(url: nats.url)
        services = try OriginalServices(client: client, secret: Self.secret)
        try await client.flush()
        let port = try freePort()
        base = "http://127.0.0.1:\(port)"
        gateway = try await ServiceProcess.start(
            "Gateway",
            environment: [
                "NATS_URL": nats.url, "HTTP_PORT": String(port), "REQUEST_TIMEOUT_MS": "5000",
                "UPSTREAM_AUTH": "nest", "UPSTREAM_CUSTOMERS": "nest", "UPSTREAM_PRODUCTS": "nest",
                "JWT_ALGORITHM": "HS256", "SECRET_KEY": Self.secret,
            ])
    }

    func send(_ method: String, _ path: String, json: Any? = nil, token: String? = nil) async throws
        -> HTTPReply
    {
        try await sendHTTP(base, method, path, json: json, token: token)
    }

    /// Registers and logs in through the original auth service; the access token.
    func token() async throws -> String {
        let email = "m\(UInt32.random(in: 0...UInt32.max))@example.com"
        _ = try await send(
            "POST", "/auth/register", json: ["username": "mig", "email": email, "password": "password1"])
        let login = try await send("POST", "/auth/login", json: ["email": email, "password": "password1"])
        return try #require(login.object["access_token"] as? String)
    }

    func shutdown() async {
        gateway.stop()
        await services.stopAll()
        await client.close()
        nats.stop()
    }
}

func withOriginalServices(_ body: (OriginalServicesStack) async throws -> Void) async throws {
    try await withStack({ try await OriginalServicesStack() }, body)
}

@Suite(
    "Migration, direction 2: our gateway in front of the original services", .serialized,
    .timeLimit(.minutes(5)))
struct OurGatewayToOriginalServicesTests {
    @Test func authRegisterLoginAndTheOriginalsTokens() async throws {
        try await withOriginalServices { stack in
            let user = ["username": "vera", "email": "vera@example.com", "password": "password1"]
            let registered = try await stack.send("POST", "/auth/register", json: user)
            #expect(
                registered.status == 201
                    && registered.object["message"] as? String == "User registered successfully")
            #expect(
                stack.services.received(AuthSubject.register).last?.contains(#""username":"vera""#) == true)
            let duplicate = try await stack.send("POST", "/auth/register", json: user)
            #expect(
                duplicate.status == 409 && duplicate.headers["content-type"] == "application/problem+json")
            #expect(duplicate.object["detail"] as? String == "User already exists")
            // Our validation still runs first: nothing reaches the original with a bad body.
            let calls = stack.services.received(AuthSubject.register).count
            #expect(try await stack.send("POST", "/auth/register", json: ["username": "v"]).status == 400)
            #expect(stack.services.received(AuthSubject.register).count == calls)

            let login = try await stack.send(
                "POST", "/auth/login", json: ["email": "vera@example.com", "password": "password1"])
            #expect(login.status == 200 && login.object["token_type"] as? String == "Bearer")
            let expiresIn = try #require(login.object["expires_in"] as? Int)
            #expect((3500...3600).contains(expiresIn))
            let token = try #require(login.object["access_token"] as? String)
            let refused = try await stack.send(
                "POST", "/auth/login", json: ["email": "vera@example.com", "password": "wrong-password"])
            #expect(refused.status == 401 && refused.object["detail"] as? String == "Invalid credentials")

            // The original's token (HS256, sub = email, no iss or aud) opens the secured routes.
            #expect(try await stack.send("GET", "/customers/ALFKI", token: token).status == 200)
            // One signed with another secret does not.
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: String(repeating: "x", count: 40)), digestAlgorithm: .sha256)
            let forged = try await keys.sign(
                OriginalServices.Claims(
                    sub: SubjectClaim(value: "vera@example.com"), exp: ExpirationClaim(value: Date() + 600),
                    iat: IssuedAtClaim(value: Date())))
            #expect(try await stack.send("GET", "/customers/ALFKI", token: forged).status == 401)
            // What the original auth service lacks: 501, not a timeout.
            let refresh = try await stack.send("POST", "/auth/refresh", json: ["refresh_token": "x"])
            #expect(refresh.status == 501 && refresh.headers["content-type"] == "application/problem+json")
            #expect(try await stack.send("GET", "/auth/me", token: token).status == 501)
        }
    }

    @Test func customersThroughTheOriginalGoService() async throws {
        try await withOriginalServices { stack in
            let token = try await stack.token()
            // Our list shape, paged by the gateway from the original's whole list.
            let page = try await stack.send(
                "GET", "/customers?limit=2&sort=company_name&order=desc", token: token)
            #expect(
                page.status == 200 && page.object["total"] as? Int == 3 && page.object["pages"] as? Int == 2)
            let names = (page.object["data"] as? [[String: Any]])?.compactMap { $0["customer_id"] as? String }
            #expect(names == ["BERGS", "ANATR"])
            #expect(stack.services.received(CustomersSubject.list).last == #""""#)
            let search = try await stack.send("GET", "/customers/findAll?search=trujillo", token: token)
            #expect((search.object["data"] as? [[String: Any]])?.first?["customer_id"] as? String == "ANATR")
            #expect(search.object["total"] as? Int == 1)

            let alfki = try await stack.send("GET", "/customers/ALFKI", token: token)
            #expect(alfki.status == 200 && alfki.object["contact_name"] as? String == "Maria Anders")
            #expect(stack.services.received(CustomersSubject.get).last == #""ALFKI""#)
            let missing = try await stack.send("GET", "/customers/ZZZZZ", token: token)
            #expect(
                missing.status == 404 && missing.object["detail"] as? String == "customer ZZZZZ not found")

            let customer: [String: Any] = [
                "customer_id": "MIGRA", "company_name": "Migration AB", "contact_name": "Kim", "city": "Umeå",
                "country": "Sweden",
            ]
            let created = try await stack.send("POST", "/customers/create", json: customer, token: token)
            #expect(created.status == 201 && created.object["customer_id"] as? String == "MIGRA")
            let duplicate = try await stack.send("POST", "/customers", json: customer, token: token)
            #expect(
                duplicate.status == 409
                    && (duplicate.object["detail"] as? String)?.contains("already exists") == true)

            let updated = try await stack.send(
                "PATCH", "/customers/update/MIGRA", json: ["city": "Kiruna"], token: token)
            #expect(updated.status == 200 && updated.object["city"] as? String == "Kiruna")
            let sent = try #require(stack.services.received(CustomersSubject.update).last)
            let data = try JSONSerialization.jsonObject(with: Data(sent.utf8)) as? [String: Any]
            #expect(
                data?["id"] as? String == "MIGRA"
                    && (data?["customer"] as? [String: Any])?["city"] as? String == "Kiruna")
            let unknown = try await stack.send("PATCH", "/customers/ZZZZZ", json: ["city": "X"], token: token)
            #expect(unknown.status == 404)

            // The original has no delete that works: 501 at once.
            #expect(try await stack.send("DELETE", "/customers/MIGRA", token: token).status == 501)
        }
    }

    @Test func productsThroughTheOriginalNestService() async throws {
        try await withOriginalServices { stack in
            let token = try await stack.token()
            let page = try await stack.send("GET", "/products/findAll?page=2&limit=2", token: token)
            #expect(
                page.status == 200 && page.object["page"] as? Int == 2 && page.object["total"] as? Int == 3)
            #expect((page.object["data"] as? [Any])?.count == 1)
            #expect(
                stack.services.received(ProductsSubject.list).last.map {
                    $0.contains(#""page":2"#) && $0.contains(#""limit":2"#)
                } == true)
            let filtered = try await stack.send("GET", "/products?search=chai", token: token)
            #expect(filtered.status == 501 && (filtered.object["errors"] as? [String: Any])?["search"] != nil)

            let chai = try await stack.send("GET", "/products/1", token: token)
            #expect(chai.status == 200 && chai.object["product_name"] as? String == "Chai")
            #expect(stack.services.received(ProductsSubject.get).last == "1")
            #expect(try await stack.send("GET", "/products/999", token: token).status == 404)

            let created = try await stack.send(
                "POST", "/products", json: ["product_name": "Mate", "unit_price": 4.5, "units_in_stock": 3],
                token: token)
            #expect(created.status == 201 && created.object["product_id"] as? Int == 4)
            let updated = try await stack.send(
                "PATCH", "/products/4", json: ["units_in_stock": 9], token: token)
            #expect(updated.status == 200 && updated.object["units_in_stock"] as? Int == 9)
            let sent = try #require(stack.services.received(ProductsSubject.update).last)
            let data = try JSONSerialization.jsonObject(with: Data(sent.utf8)) as? [String: Any]
            #expect(
                data?["id"] as? Int == 4
                    && (data?["updateProductDto"] as? [String: Any])?["units_in_stock"] as? Int == 9)
            #expect(
                try await stack.send("PATCH", "/products/999", json: ["units_in_stock": 1], token: token)
                    .status == 404)

            #expect(try await stack.send("DELETE", "/products/4", token: token).status == 501)
            #expect(try await stack.send("GET", "/categories", token: token).status == 501)
        }
    }

    @Test func readyFollowsTheOriginalServices() async throws {
        try await withOriginalServices { stack in
            // Ready once the gateway has seen every original service answer its ping (a busy
            // machine may take a moment after they start).
            var ready = try await stack.send("GET", "/ready")
            _ = await eventually(timeout: .seconds(20)) {
                if ready.status == 200 { return true }
                ready = (try? await stack.send("GET", "/ready")) ?? ready
                return ready.status == 200
            }
            #expect(ready.status == 200 && ready.object["ready"] as? Bool == true)
            // The readiness probe runs no handler of the original services.
            #expect(stack.services.received(AuthSubject.login).isEmpty)
            await stack.services.stop("customers")
            // Each probe waits a second at most: on a busy machine another service may miss
            // one now and then, so the answer naming customers alone is waited for.
            func onlyCustomersMissing(_ answer: HTTPReply) -> Bool {
                answer.status == 503 && answer.object["missing"] as? [String] == ["customers"]
            }
            var notReady = try await stack.send("GET", "/ready")
            _ = await eventually(timeout: .seconds(20)) {
                if onlyCustomersMissing(notReady) { return true }
                notReady = (try? await stack.send("GET", "/ready")) ?? notReady
                return onlyCustomersMissing(notReady)
            }
            #expect(onlyCustomersMissing(notReady), "\(notReady.object)")
            // A request meanwhile: the service is not there.
            let token = try await stack.token()
            #expect(try await stack.send("GET", "/customers/ALFKI", token: token).status == 503)
            try stack.services.start("customers")
            try await stack.client.flush()
            var back = try await stack.send("GET", "/ready")
            _ = await eventually(timeout: .seconds(20)) {
                if back.status == 200 { return true }
                back = (try? await stack.send("GET", "/ready")) ?? back
                return back.status == 200
            }
            #expect(back.status == 200)
        }
    }
}

@Suite(
    "Migration, both directions at once: our gateway speaking the original's payloads to our services",
    .timeLimit(.minutes(5)))
struct BothDirectionsTests {
    /// The two halves agree on one description of the original: our gateway in `nest` mode in
    /// front of our services, which answer the original gateway's payloads.
    @Test func ourGatewayInNestModeInFrontOfOurServices() async throws {
        let secret = String(repeating: "b", count: 40)
        let tokens = ["JWT_ALGORITHM": "HS256", "SECRET_KEY": secret]
        let upstreams = ["UPSTREAM_AUTH": "nest", "UPSTREAM_CUSTOMERS": "nest", "UPSTREAM_PRODUCTS": "nest"]
        try await withFullStack(
            gatewayEnvironment: tokens.merging(upstreams) { $1 }, authEnvironment: tokens
        ) { stack in
            #expect(try await stack.send("GET", "/ready").status == 200)
            let email = "both\(UInt32.random(in: 0...UInt32.max))@example.com"
            let registered = try await stack.send(
                "POST", "/auth/register", json: ["username": "both", "email": email, "password": "password1"])
            #expect(registered.status == 201)
            let login = try await stack.send(
                "POST", "/auth/login", json: ["email": email, "password": "password1"])
            let token = try #require(login.object["access_token"] as? String)
            #expect(login.status == 200 && (login.object["expires_in"] as? Int ?? 0) > 0)

            let chai = try await stack.send("GET", "/products/1", token: token)
            #expect(chai.status == 200 && chai.object["product_name"] as? String == "Chai")
            #expect(try await stack.send("GET", "/products/32000", token: token).status == 404)
            let stock = try #require(chai.object["units_in_stock"] as? Int)
            let patched = try await stack.send(
                "PATCH", "/products/1", json: ["units_in_stock": stock], token: token)
            #expect(patched.status == 200 && patched.object["units_in_stock"] as? Int == stock)
            let products = try await stack.send("GET", "/products?page=2&limit=3", token: token)
            #expect(products.status == 200 && (products.object["data"] as? [Any])?.count == 3)

            let customers = try await stack.send("GET", "/customers?limit=5&sort=country", token: token)
            #expect(customers.status == 200 && (customers.object["total"] as? Int ?? 0) >= 91)
            #expect((customers.object["data"] as? [Any])?.count == 5)
            let id = uniqueCustomerID()
            let created = try await stack.send(
                "POST", "/customers",
                json: ["customer_id": id, "company_name": "Both Ways", "city": "Turku"],
                token: token)
            #expect(created.status == 201 && created.object["company_name"] as? String == "Both Ways")
            let duplicate = try await stack.send(
                "POST", "/customers", json: ["customer_id": id, "company_name": "Again"], token: token)
            #expect(duplicate.status == 409)
            let updated = try await stack.send(
                "PATCH", "/customers/\(id)", json: ["city": "Espoo"], token: token)
            #expect(updated.status == 200 && updated.object["city"] as? String == "Espoo")
            #expect(try await stack.send("GET", "/customers/ZZZZ9", token: token).status == 404)
            #expect(try await stack.send("DELETE", "/customers/\(id)", token: token).status == 501)
        }
    }
}
