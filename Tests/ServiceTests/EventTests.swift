import BlockingCalls
import Contracts
import Foundation
import MongoStore
import NATSWire
import TestHarness
import Testing

/// A nats-server with JetStream, the shared PostgreSQL, and data services whose changes
/// become events in the `EVENTS` stream through their outboxes.
final class EventStack: TestStack, Sendable {
    let storage: URL
    let nats: NATSServer
    let postgres: PostgresServer
    let client: NATSClient
    let services: [ServiceProcess]
    /// The AuthService's database, when it runs.
    let mongoURL: String?

    init(_ executables: [String]) async throws {
        storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "natswire-events-\(UUID().uuidString.prefix(8))")
        nats = try NATSServer(arguments: ["-js", "-sd", storage.path])
        postgres = try await PostgresServer.shared()
        client = try await NATSClient.connect(url: nats.url)
        var started: [ServiceProcess] = []
        var mongoURL: String?
        for executable in executables {
            var environment = DataStack.environment(executable, nats: nats, postgres: postgres)
            if executable == "AuthService" {
                let store = try await DocumentStore.shared()
                let url = store.url(database: "events\(UInt32.random(in: 0...UInt32.max))")
                environment = ["NATS_URL": nats.url, "BCRYPT_COST": "4", "MONGO_URL": url]
                mongoURL = url
            }
            started.append(try await ServiceProcess.start(executable, environment: environment))
        }
        services = started
        self.mongoURL = mongoURL
    }

    func shutdown() async {
        for service in services { service.stop() }
        await client.close()
        nats.stop()
        try? FileManager.default.removeItem(at: storage)
    }

    /// A request with a request id of the test's choosing; the reply's JSON object.
    func object(_ subject: String, _ body: [String: Any], requestID: String, key: String? = nil) async throws
        -> (
            [String: Any], code: Int?
        )
    {
        var headers = NATSHeaders()
        headers.append(requestID, for: "X-Request-Id")
        if let key { headers.append(key, for: "Idempotency-Key") }
        let reply = try await client.request(
            Array(try JSONSerialization.data(withJSONObject: body)), to: subject, headers: headers,
            timeout: .seconds(10))
        let object = (try? JSONSerialization.jsonObject(with: Data(reply.payload))) as? [String: Any]
        return (object ?? [:], ServiceError(reply: reply)?.code)
    }

    typealias Event = (event: [String: Any], messageID: String?)

    /// Every event in the stream, in stream order.
    func allEvents() async throws -> [Event] {
        let jetStream = client.jetStream()
        guard let info = try? await jetStream.streamInfo("EVENTS") else { return [] }
        var found: [Event] = []
        var sequence = info.state.firstSequence
        while sequence > 0 && sequence <= info.state.lastSequence {
            let message = try await jetStream.message("EVENTS", sequence: sequence)
            if let event = (try? JSONSerialization.jsonObject(with: Data(message.payload))) as? [String: Any]
            {
                found.append((event, message.headers?["Nats-Msg-Id"]))
            }
            sequence += 1
        }
        return found
    }

    /// Waits until `done` holds for the stream's events, and returns them.
    func awaitEvents(until done: @escaping ([Event]) -> Bool) async throws -> [Event] {
        var latest: [Event] = []
        _ = await eventually(timeout: .seconds(60)) {
            latest = (try? await allEvents()) ?? []
            return done(latest)
        }
        return latest
    }
}

@Suite("Domain events through the outbox", .serialized, .timeLimit(.minutes(3)))
struct EventTests {
    @Test func eachCustomerChangeIsOneEventInOrder() async throws {
        try await withStack({ try await EventStack(["CustomersService"]) }) { stack in
            let id = uniqueCustomerID()
            let created = try await stack.object(
                CustomersSubject.create, ["customer_id": id, "company_name": "Events Ltd"],
                requestID: "req-create")
            #expect(created.code == nil)
            // Failed writes: a duplicate, an update of a missing customer, an invalid field.
            #expect(
                try await stack.object(
                    CustomersSubject.create, ["customer_id": id, "company_name": "Again"],
                    requestID: "req-dup"
                ).code == 409)
            #expect(
                try await stack.object(
                    CustomersSubject.update, ["customer_id": uniqueCustomerID(), "city": "Nowhere"],
                    requestID: "req-missing"
                ).code == 404)
            #expect(
                try await stack.object(
                    CustomersSubject.update, ["customer_id": id, "city": String(repeating: "x", count: 500)],
                    requestID: "req-invalid"
                ).code == 400)
            _ = try await stack.object(
                CustomersSubject.update, ["customer_id": id, "city": "Lisbon"], requestID: "req-update")
            _ = try await stack.object(CustomersSubject.delete, ["customer_id": id], requestID: "req-delete")

            let events = try await stack.awaitEvents { all in
                all.filter { $0.event["aggregate_id"] as? String == id }.count >= 3
            }.filter { $0.event["aggregate_id"] as? String == id }
            #expect(events.count == 3)
            #expect(
                events.map { $0.event["type"] as? String } == [
                    "customers.events.created", "customers.events.updated", "customers.events.deleted",
                ])
            #expect(events.map { $0.event["version"] as? Int } == [1, 2, 3])
            #expect(
                events.map { $0.event["request_id"] as? String } == [
                    "req-create", "req-update", "req-delete",
                ])
            let data = events.map { $0.event["data"] as? [String: Any] }
            #expect(data[0]?["company_name"] as? String == "Events Ltd")
            #expect(data[1]?["city"] as? String == "Lisbon")
            #expect(data[2]?["customer_id"] as? String == id)
            for (event, messageID) in events {
                let eventID = event["event_id"] as? String
                #expect(eventID != nil && messageID == eventID, "Nats-Msg-Id is the event id")
                #expect((event["occurred_at"] as? String)?.hasSuffix("Z") == true)
            }
            #expect(Set(events.compactMap { $0.event["event_id"] as? String }).count == 3)
            try expectValidEvents(events.map(\.event))

            // Made again after its delete: a new life from version 1. Deleted right after a
            // creation: version 2.
            _ = try await stack.object(
                CustomersSubject.create, ["customer_id": id, "company_name": "Events Again"],
                requestID: "req-again")
            _ = try await stack.object(
                CustomersSubject.update, ["customer_id": id, "city": "Porto"], requestID: "req-again-update")
            let brief = uniqueCustomerID()
            _ = try await stack.object(
                CustomersSubject.create, ["customer_id": brief, "company_name": "Brief"],
                requestID: "req-brief")
            _ = try await stack.object(
                CustomersSubject.delete, ["customer_id": brief], requestID: "req-brief-delete")
            let later = try await stack.awaitEvents { all in
                all.filter { [id, brief].contains($0.event["aggregate_id"] as? String) }.count >= 7
            }
            let versions = { (aggregate: String) in
                later.filter { $0.event["aggregate_id"] as? String == aggregate }.map {
                    $0.event["version"] as? Int
                }
            }
            #expect(versions(id) == [1, 2, 3, 1, 2])
            #expect(versions(brief) == [1, 2])
        }
    }

    @Test func twoReplicasPublishEveryCreateOnce() async throws {
        try await withStack({ try await EventStack(["ProductsService", "ProductsService"]) }) { stack in
            let marker = "Event bulk \(UUID().uuidString.prefix(6))"
            let ids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        try await stack.object(
                            ProductsSubject.create, ["product_name": "\(marker) \(i)"], requestID: "bulk-\(i)"
                        ).0["product_id"] as? Int
                    }
                }
                var out: [Int] = []
                for try await id in group { if let id { out.append(id) } }
                return out
            }
            #expect(ids.count == 40)
            // The creates of this test, told apart from any other product's events by name.
            func created(_ all: [EventStack.Event]) -> [EventStack.Event] {
                all.filter {
                    $0.event["type"] as? String == "products.events.created"
                        && (($0.event["data"] as? [String: Any])?["product_name"] as? String ?? "").hasPrefix(
                            marker)
                }
            }
            let events = created(try await stack.awaitEvents { created($0).count >= ids.count })
            let perProduct = Dictionary(grouping: events) { $0.event["aggregate_id"] as? String ?? "" }
            #expect(Set(perProduct.keys) == Set(ids.map(String.init)))
            try expectValidEvents(events.map(\.event))
            #expect(perProduct.values.allSatisfy { $0.count == 1 }, "an event published twice")
            #expect(Set(events.compactMap { $0.event["request_id"] as? String }).count == ids.count)
            _ = try stack.postgres.query("DELETE FROM products WHERE product_name LIKE '\(marker)%'")
        }
    }

    @Test func aRetryWithItsIdempotencyKeyChangesNothingTwice() async throws {
        try await withStack({ try await EventStack(["CustomersService", "ProductsService"]) }) { stack in
            let id = uniqueCustomerID()
            let key = "key-\(UUID().uuidString)"
            let body: [String: Any] = ["customer_id": id, "company_name": "Once Ltd"]
            let first = try await stack.object(CustomersSubject.create, body, requestID: "k1", key: key)
            let again = try await stack.object(CustomersSubject.create, body, requestID: "k2", key: key)
            #expect(first.code == nil && again.code == nil, "a retry is not a 409 duplicate: \(again)")
            #expect(again.0["customer_id"] as? String == id)
            let other = try await stack.object(
                CustomersSubject.create, ["customer_id": uniqueCustomerID(), "company_name": "Other"],
                requestID: "k3", key: key)
            #expect(other.code == 422)

            // Updates: the same key twice is one change (one event, version 2 after the create).
            let updateKey = "key-\(UUID().uuidString)"
            for attempt in 0..<2 {
                let update = try await stack.object(
                    CustomersSubject.update, ["customer_id": id, "city": "Porto"], requestID: "u\(attempt)",
                    key: updateKey)
                #expect(update.code == nil && update.0["city"] as? String == "Porto", "\(attempt): \(update)")
            }
            // A marker change after them: once its event is in, theirs are too.
            _ = try await stack.object(
                CustomersSubject.update, ["customer_id": id, "city": "Faro"], requestID: "marker")
            let events = try await stack.awaitEvents { all in
                all.contains {
                    $0.event["aggregate_id"] as? String == id && $0.event["request_id"] as? String == "marker"
                }
            }.filter { $0.event["aggregate_id"] as? String == id }
            #expect(events.map { $0.event["request_id"] as? String } == ["k1", "u0", "marker"])
            #expect(events.map { $0.event["version"] as? Int } == [1, 2, 3])

            // Twins at the same moment: one product, every answer the same.
            let twinKey = "key-\(UUID().uuidString)"
            let name = "Twin \(UUID().uuidString.prefix(8))"
            let ids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        try await stack.object(
                            ProductsSubject.create, ["product_name": name], requestID: "t\(i)", key: twinKey
                        ).0["product_id"] as? Int
                    }
                }
                var out: [Int?] = []
                for try await id in group { out.append(id) }
                return out
            }
            #expect(ids.count == 8 && Set(ids).count == 1 && ids.first != nil, "\(ids)")
            #expect(
                try stack.postgres.query("SELECT count(*) FROM products WHERE product_name = '\(name)'")
                    == "1")
            _ = try stack.postgres.query("DELETE FROM products WHERE product_name = '\(name)'")
        }
    }

    @Test func aRetriedRegistrationWithItsKeyIsOneUserAndOneEvent() async throws {
        try await withStack({ try await EventStack(["AuthService"]) }) { stack in
            let email = "retry\(UInt32.random(in: 0...UInt32.max))@example.com"
            let body: [String: Any] = ["username": "ret", "email": email, "password": "password-one"]
            let key = UUID().uuidString
            let first = try await stack.object(AuthSubject.register, body, requestID: "r1", key: key)
            let again = try await stack.object(AuthSubject.register, body, requestID: "r2", key: key)
            #expect(first.code == nil && again.code == nil, "\(again)")
            let id = try #require(first.0["id"] as? String)
            #expect(again.0["id"] as? String == id)
            var otherPassword = body
            otherPassword["password"] = "password-two"
            #expect(
                try await stack.object(AuthSubject.register, otherPassword, requestID: "r3", key: key).code
                    == 422)
            var otherName = body
            otherName["username"] = "someone"
            #expect(
                try await stack.object(AuthSubject.register, otherName, requestID: "r4", key: key).code == 422
            )
            #expect(
                try await stack.object(AuthSubject.register, body, requestID: "r5").code == 409,
                "no key: a duplicate")
            // Twins at once with one key: one user, one answer.
            let twinEmail = "twin\(UInt32.random(in: 0...UInt32.max))@example.com"
            let twinKey = UUID().uuidString
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for i in 0..<6 {
                    group.addTask {
                        try await stack.object(
                            AuthSubject.register,
                            ["username": "twin", "email": twinEmail, "password": "password-one"],
                            requestID: "t\(i)", key: twinKey
                        ).0["id"] as? String
                    }
                }
                var out: [String?] = []
                for try await id in group { out.append(id) }
                return out
            }
            #expect(Set(ids).count == 1 && ids.first != nil, "\(ids)")
            let events = try await stack.awaitEvents { all in
                all.contains { $0.event["aggregate_id"] as? String == ids.first ?? "" }
            }
            #expect(events.filter { $0.event["aggregate_id"] as? String == id }.count == 1)
            #expect(events.filter { $0.event["aggregate_id"] as? String == ids.first ?? "" }.count == 1)
        }
    }

    @Test func aRegistrationIsOneEventWithoutSecrets() async throws {
        try await withStack({ try await EventStack(["AuthService"]) }) { stack in
            let email = "event\(UInt32.random(in: 0...UInt32.max))@example.com"
            let password = "correct-horse-battery"
            let registered = try await stack.object(
                AuthSubject.register, ["username": "eve", "email": email, "password": password],
                requestID: "req-register")
            #expect(registered.code == nil)
            let id = try #require(registered.0["id"] as? String)
            // Refused: the same email again (409) is no event.
            #expect(
                try await stack.object(
                    AuthSubject.register, ["username": "eve", "email": email, "password": password],
                    requestID: "req-again"
                ).code == 409)
            // A second registration as a marker: once its event is in, the first one's is too.
            let marker = try await stack.object(
                AuthSubject.register,
                [
                    "username": "max", "email": "m\(UInt32.random(in: 0...UInt32.max))@example.com",
                    "password": password,
                ],
                requestID: "req-marker")
            let markerID = try #require(marker.0["id"] as? String)
            let events = try await stack.awaitEvents { all in
                all.contains { $0.event["aggregate_id"] as? String == markerID }
            }.filter { $0.event["aggregate_id"] as? String == id }
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.event["type"] as? String == "auth.events.registered")
            #expect(event.event["request_id"] as? String == "req-register")
            #expect(event.messageID == event.event["event_id"] as? String)
            let data = try #require(event.event["data"] as? [String: Any])
            #expect(data["email"] as? String == email && data["username"] as? String == "eve")
            try expectValidEvents([event.event])
            #expect(
                Set(data.keys) == ["id", "username", "email", "roles", "created_at"], "no hash, no token")
            let text = String(
                decoding: try JSONSerialization.data(withJSONObject: event.event), as: UTF8.self)
            #expect(
                !text.contains(password) && !text.contains("$2"), "neither the password nor its bcrypt hash")
            // Published, the event leaves the user's document (else it would go out again).
            let database = try MongoDatabase(
                url: try #require(stack.mongoURL), defaultDatabase: "auth",
                executor: BlockingPool(threads: 1, name: "test-mongo"))
            let cleared = await eventually(timeout: .seconds(30)) {
                let user = try? await database.collection("users").findOne(["email": .string(email)])
                return user != nil && user?["pending_event"] == nil
            }
            #expect(cleared)
        }
    }
}

/// Every event conforms to the schema in the repository (`Schemas/events/event.schema.json`).
func expectValidEvents(_ events: [[String: Any]]) throws {
    let documents = try events.map {
        (schema: "event.schema.json", json: Array(try JSONSerialization.data(withJSONObject: $0)))
    }
    let verdict = try validate(documents, schemasIn: projectRoot.appendingPathComponent("Schemas/events"))
    #expect(verdict == "valid", "\(verdict)")
}
