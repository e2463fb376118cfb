import Contracts
import Foundation
import JWTKit
import NATSWire
import Synchronization
import TestHarness

/// A stand-in for the original system's services (Go auth and customers, NestJS products),
/// written from what issue 13 records of their behaviour, not from their code: the NestJS
/// envelope in, the original's `response` out, quirks included (`null` for a missing record,
/// `{"error": text}` from the Go customers service, `{message, context: false}` from auth,
/// `"err": null` in the Go services' replies, no handler for `deleteCustomer`). Records the
/// `data` of every call so tests can check what our gateway sent.
final class OriginalServices: Sendable {
    let client: NATSClient
    private let secret: String
    private let state = Mutex(State())
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])

    /// Records as JSON text: `Any` does not cross the lock.
    private struct State {
        var users: [String: (username: String, password: String)] = [:]
        var customers: [String: String] = [
            "ALFKI":
                #"{"customer_id":"ALFKI","company_name":"Alfreds Futterkiste","contact_name":"Maria Anders","city":"Berlin","country":"Germany"}"#,
            "ANATR":
                #"{"customer_id":"ANATR","company_name":"Ana Trujillo Emparedados y helados","contact_name":"Ana Trujillo","city":"México D.F.","country":"Mexico"}"#,
            "BERGS":
                #"{"customer_id":"BERGS","company_name":"Berglunds snabbköp","contact_name":"Christina Berglund","city":"Luleå","country":"Sweden"}"#,
        ]
        var products: [Int: String] = [
            1: #"{"product_id":1,"product_name":"Chai","unit_price":18,"units_in_stock":39}"#,
            2: #"{"product_id":2,"product_name":"Chang","unit_price":19,"units_in_stock":17}"#,
            3: #"{"product_id":3,"product_name":"Aniseed Syrup","unit_price":10,"units_in_stock":13}"#,
        ]
        /// The JSON text of each call's `data`, by subject.
        var received: [String: [String]] = [:]
    }

    init(client: NATSClient, secret: String) throws {
        self.client = client
        self.secret = secret
        for service in ["auth", "customers", "products"] { try start(service) }
    }

    /// Subscribes `service.*`, as the original service does on start.
    func start(_ service: String) throws {
        let subscription = try client.subscribe(to: "\(service).*")
        let task = Task { [self] in
            do {
                for try await message in subscription {
                    await answer(message, goStyle: service != "products")
                }
            } catch {}
            try? subscription.unsubscribe()
        }
        tasks.withLock { $0[service] = task }
    }

    /// The service goes away (its subscription ends).
    func stop(_ service: String) async {
        let task = tasks.withLock { $0.removeValue(forKey: service) }
        task?.cancel()
        await task?.value
    }

    func stopAll() async {
        for service in ["auth", "customers", "products"] { await stop(service) }
    }

    /// What `subject` received as `data`, as JSON text, in order.
    func received(_ subject: String) -> [String] { state.withLock { $0.received[subject] ?? [] } }

    private func answer(_ message: NATSMessage, goStyle: Bool) async {
        guard
            let envelope = try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any],
            let id = envelope["id"] as? String
        else { return }
        let data = envelope["data"] ?? NSNull()
        var reply: [String: Any] = ["id": id, "isDisposed": true]
        if envelope["pattern"] as? String != message.subject {
            reply["err"] = "There is no matching message handler defined in the remote service."
        } else {
            let text = Self.text(data)
            state.withLock { $0.received[message.subject, default: []].append(text) }
            guard let response = await respond(message.subject, data) else { return }
            reply["response"] =
                (try? JSONSerialization.jsonObject(with: Data(response.utf8), options: [.fragmentsAllowed]))
                ?? NSNull()
            if goStyle { reply["err"] = NSNull() }
        }
        if let payload = try? JSONSerialization.data(withJSONObject: reply) {
            try? client.reply(to: message, with: Array(payload))
        }
    }

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
    }

    private static func text(_ value: Any) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
                ?? Data(),
            as: UTF8.self)
    }

    private static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The original's response as JSON text; `nil` where nothing answers.
    private func respond(_ subject: String, _ data: Any) async -> String? {
        let object = data as? [String: Any] ?? [:]
        switch subject {
        case "auth.registerUser":
            let email = object["email"] as? String ?? ""
            let added = state.withLock { state -> Bool in
                guard state.users[email] == nil else { return false }
                state.users[email] = (
                    object["username"] as? String ?? "", object["password"] as? String ?? ""
                )
                return true
            }
            return added
                ? #"{"message":"User registered successfully","context":true}"#
                : #"{"message":"User already exists","context":false}"#
        case "auth.loginUser":
            let email = object["email"] as? String ?? ""
            let password = state.withLock { $0.users[email]?.password }
            guard let password, password == object["password"] as? String else {
                return #"{"message":"Invalid credentials","context":false}"#
            }
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            let now = Date()
            let claims = Claims(
                sub: SubjectClaim(value: email), exp: ExpirationClaim(value: now.addingTimeInterval(3600)),
                iat: IssuedAtClaim(value: now))
            guard let token = try? await keys.sign(claims) else { return nil }
            return Self.text(["message": token, "context": true])
        case "customers.findCustomers":
            return "["
                + state.withLock { state in state.customers.keys.sorted().compactMap { state.customers[$0] } }
                .joined(separator: ",") + "]"
        case "customers.findCustomer":
            return state.withLock { $0.customers[data as? String ?? ""] } ?? "null"
        case "customers.createCustomer":
            let id = object["customer_id"] as? String ?? ""
            let record = Self.text(object)
            return state.withLock { state -> String in
                guard state.customers[id] == nil else {
                    return Self.text(["error": "customer \(id) already exists"])
                }
                state.customers[id] = record
                return record
            }
        case "customers.updateCustomer":
            let id = object["id"] as? String ?? ""
            guard let stored = state.withLock({ $0.customers[id] }) else {
                return Self.text(["error": "customer not found"])
            }
            var customer = Self.object(stored)
            customer.merge(object["customer"] as? [String: Any] ?? [:]) { $1 }
            let record = Self.text(customer)
            state.withLock { $0.customers[id] = record }
            return record
        case "products.findAllProducts":
            let page = object["page"] as? Int ?? 1
            let limit = object["limit"] as? Int ?? 10
            let all = state.withLock { state in state.products.keys.sorted().compactMap { state.products[$0] }
            }
            return Self.text([
                "data": all.dropFirst((page - 1) * limit).prefix(limit).map(Self.object), "total": all.count,
                "page": page, "limit": limit, "pages": (all.count + limit - 1) / limit,
            ])
        case "products.findOneProduct":
            return state.withLock { $0.products[data as? Int ?? 0] } ?? "null"
        case "products.createProduct":
            var product = object
            let id = state.withLock { ($0.products.keys.max() ?? 0) + 1 }
            product["product_id"] = id
            let record = Self.text(product)
            state.withLock { $0.products[id] = record }
            return record
        case "products.updateProduct":
            let id = object["id"] as? Int ?? 0
            var affected = 0
            if let stored = state.withLock({ $0.products[id] }) {
                var product = Self.object(stored)
                product.merge(object["updateProductDto"] as? [String: Any] ?? [:]) { $1 }
                let record = Self.text(product)
                state.withLock { $0.products[id] = record }
                affected = 1
            }
            return #"{"generatedMaps":[],"raw":[],"affected":\#(affected)}"#
        default:
            // deleteCustomer: nothing answers it in the original.
            return nil
        }
    }
}
