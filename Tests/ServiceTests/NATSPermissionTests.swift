import Foundation
import NATSWire
import Synchronization
import TestHarness
import Testing

/// The system's NATS authorization (scripts/nats-auth-config.sh, used by scripts/up.sh),
/// enforced by a real nats-server: each process may do what it needs and nothing else.
@Suite("NATS permissions of the system's processes", .timeLimit(.minutes(5)))
struct NATSPermissionTests {
    /// Runs the script that `up.sh` runs; returns the config and the folder of seeds.
    static func generateConfig(secrets existing: URL? = nil) throws -> (config: String, secrets: URL) {
        let secrets =
            existing
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("natswire-perm-\(UUID().uuidString.prefix(8))")
        let (status, config) = try ChildProcess.runBlocking(
            projectRoot.appendingPathComponent("scripts/nats-auth-config.sh").path,
            [secrets.path, try ServiceProcess.locate("natswire").path], errorsToo: false)
        guard status == 0 else { throw HarnessError("nats-auth-config.sh failed") }
        return (config, secrets)
    }

    static func connect(_ server: NATSServer, as user: String, secrets: URL, inbox: String = "_INBOX")
        async throws -> NATSClient
    {
        var options = NATSOptions(url: server.url)
        options.nkeySeed = try String(
            contentsOf: secrets.appendingPathComponent("nats-\(user).nk"), encoding: .utf8)
        options.inboxPrefix = inbox
        options.reconnect = .disabled
        return try await NATSClient.connect(options)
    }

    /// The permission errors the server reported to `client` while `body` ran, once
    /// `expecting` of them have arrived (or 10 s passed).
    static func violations(
        of client: NATSClient, expecting: Int, during body: () async throws -> Void
    ) async throws -> [String] {
        let seen = Mutex<[String]>([])
        let stream = client.events()
        let watcher = Task {
            for await event in stream {
                if case .serverError(let error) = event, error.kind == .permissionsViolation {
                    seen.withLock { $0.append(error.message) }
                }
            }
        }
        try await body()
        try await client.flush()
        _ = await eventually(timeout: .seconds(10)) { seen.withLock { $0.count } >= expecting }
        watcher.cancel()
        return seen.withLock { $0 }
    }

    @Test func eachProcessMayDoOnlyWhatItNeeds() async throws {
        let (config, secrets) = try Self.generateConfig()
        for name in ["gateway", "auth", "customers", "products", "admin"] {
            let seed = try String(
                contentsOf: secrets.appendingPathComponent("nats-\(name).nk"), encoding: .utf8)
            #expect(seed.hasPrefix("SU"))
            #expect(
                !config.contains(seed.trimmingCharacters(in: .whitespacesAndNewlines)),
                "seeds stay out of the config")
        }
        try await withNATSServer(config: config) { server in
            let gateway = try await Self.connect(
                server, as: "gateway", secrets: secrets, inbox: "_INBOX.gateway")
            let products = try await Self.connect(server, as: "products", secrets: secrets)
            let customers = try await Self.connect(server, as: "customers", secrets: secrets)

            // Allowed: a service answers on its own subject, the gateway asks.
            let service = try products.addService(ServiceConfig(name: "products", version: "1.0.0"))
            try service.addEndpoint("get", subject: "products.findOneProduct") { _ in ServiceReply("ok") }
            try await products.flush()
            #expect(try await gateway.request("{}", to: "products.findOneProduct").string == "ok")
            // The services API works for the gateway's readiness pings.
            #expect(try await gateway.request("", to: "$SRV.PING.products").payload.isEmpty == false)

            // Refused: the gateway listening to service subjects or publishing elsewhere.
            let gatewaySubscription = try gateway.subscribe(to: "products.>")
            await #expect {
                for try await _ in gatewaySubscription {}
            } throws: { ($0 as? NATSError)?.kind == .permissionsViolation }
            let gatewayDenied = try await Self.violations(of: gateway, expecting: 2) {
                try gateway.publish("x", to: "orders.secret")
                try gateway.publish("{}", to: "products.events.created")
            }
            #expect(gatewayDenied.contains { $0.contains("orders.secret") })
            #expect(
                gatewayDenied.contains { $0.contains("products.events.created") },
                "the gateway forging an event")

            // Refused: a service publishing to another service or another service's events, or
            // subscribing to its subjects. Its own events are allowed.
            let productsDenied = try await Self.violations(of: products, expecting: 3) {
                try products.publish("{}", to: "products.events.created")
                try products.publish("{}", to: "auth.loginUser")
                try products.publish("{}", to: "customers.deleteCustomer")
                try products.publish("{}", to: "customers.events.deleted")
            }
            #expect(productsDenied.count == 3, "\(productsDenied)")
            #expect(!productsDenied.contains { $0.contains("products.events.created") })
            let stolen = try customers.subscribe(to: "auth.>")
            await #expect {
                for try await _ in stolen {}
            } throws: { ($0 as? NATSError)?.kind == .permissionsViolation }

            // A gateway using another inbox gets no replies: its inbox subscription is refused.
            let wrongInbox = try await Self.connect(server, as: "gateway", secrets: secrets)
            await #expect(throws: (any Error).self) {
                _ = try await wrongInbox.request(
                    "{}", to: "products.findOneProduct", timeout: .milliseconds(500))
            }

            // The admin user may do anything; nobody gets in without a key.
            let admin = try await Self.connect(server, as: "admin", secrets: secrets)
            #expect(try await admin.request("{}", to: "products.findOneProduct").string == "ok")
            await #expect {
                _ = try await NATSClient.connect(NATSOptions(url: server.url))
            } throws: { ($0 as? NATSError)?.kind == .authorizationViolation }

            for client in [gateway, products, customers, wrongInbox, admin] { await client.close() }
        }
        try? FileManager.default.removeItem(at: secrets)
    }

    @Test func wholeSystemOverTLSWithItsOwnIdentities() async throws {
        // Every process connects over TLS as its own NKey user with the generated
        // permissions (what `NATS_TLS=1 scripts/up.sh` runs); the whole API works through it.
        try await withFullStack(access: try .secured()) { stack in
            let tokens = try await stack.login()
            let token = try #require(tokens["access_token"] as? String)
            #expect(try await stack.send("GET", "/auth/me", token: token).status == 200)
            #expect(
                try await stack.send("GET", "/products/1", token: token).object["product_name"] as? String
                    == "Chai")
            #expect(try await stack.send("GET", "/customers?limit=2", token: token).status == 200)
            #expect(try await stack.send("GET", "/ready").status == 200)
            #expect(stack.nats.log.contains("TLS required for client connections"))
        }
    }

    @Test func seedsAreKeptAndPrivate() throws {
        let (first, secrets) = try Self.generateConfig()
        let (second, _) = try Self.generateConfig(secrets: secrets)
        #expect(first == second, "a second run must reuse the seeds")
        for name in ["gateway", "auth", "customers", "products", "admin"] {
            let attributes = try FileManager.default.attributesOfItem(
                atPath: secrets.appendingPathComponent("nats-\(name).nk").path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        try? FileManager.default.removeItem(at: secrets)
    }
}
