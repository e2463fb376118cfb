/// The payloads of the original NestJS/Go system, subject by subject: what its gateway sends
/// as `data` in a NestJS envelope and what it reads back as `response`. Our services read and
/// write them when the original gateway calls (see `ServiceRuntime.NestEnvelope`), and our
/// gateway writes and reads them when it calls the original services (`UPSTREAM_*=nest`):
/// both directions follow this one description.
///
/// | subject | data | response |
/// |---|---|---|
/// | `auth.registerUser` | `{username, email, password}` | ``AuthAnswer`` |
/// | `auth.loginUser` | `{email, password}` | ``AuthAnswer`` (the JWT as `message`) |
/// | `customers.findCustomers` | `""` | an array of every customer |
/// | `customers.findCustomer` | the bare id, `"ALFKI"` | the customer or `null` |
/// | `customers.createCustomer` | `{customer_id, contact_name, city, country}` | the customer or ``errorAnswer(_:)`` |
/// | `customers.updateCustomer` | ``CustomerUpdate`` | the customer or ``errorAnswer(_:)`` |
/// | `customers.deleteCustomer` | `""` (the original loses the id) | none |
/// | `products.findAllProducts` | `{page, limit}` | `{data, total, page, limit, pages}` |
/// | `products.findOneProduct` | the bare id, `1` | the product or `null` |
/// | `products.createProduct` | `{product_name, unit_price, units_in_stock}` | the product |
/// | `products.updateProduct` | ``ProductUpdate`` | ``UpdateResult`` |
public enum OriginalPayloads {
    /// What the original auth service answers to register and login: `{"message": M,
    /// "context": C}`. `context` says whether it worked; on a login that worked, `message` is
    /// the access token itself.
    public struct AuthAnswer: Sendable, Equatable {
        public var message: String
        public var context: Bool

        public init(message: String, context: Bool) {
            self.message = message
            self.context = context
        }

        /// Reads a response; `nil` when it is not this shape.
        public init?(_ value: JSONValue) {
            guard let message = value["message"]?.string, let context = value["context"]?.bool else {
                return nil
            }
            self.init(message: message, context: context)
        }

        public var json: [UInt8] {
            JSONValue.object([("message", .string(message)), ("context", .bool(context))]).json
        }
    }

    /// `data` of `customers.updateCustomer`: `{"customer": {...}, "id": "ALFKI"}`.
    public struct CustomerUpdate: Sendable, Equatable {
        public var id: String
        public var customer: JSONValue

        public init(id: String, customer: JSONValue) {
            self.id = id
            self.customer = customer
        }

        public init?(_ value: JSONValue) {
            guard let id = value["id"].flatMap(OriginalPayloads.key), let customer = value["customer"],
                case .object = customer
            else { return nil }
            self.init(id: id, customer: customer)
        }

        public var json: [UInt8] { JSONValue.object([("customer", customer), ("id", .string(id))]).json }
    }

    /// `data` of `products.updateProduct`: `{"id": 1, "updateProductDto": {...}}`.
    public struct ProductUpdate: Sendable, Equatable {
        public var id: Int
        public var changes: JSONValue

        public init(id: Int, changes: JSONValue) {
            self.id = id
            self.changes = changes
        }

        public init?(_ value: JSONValue) {
            guard let id = value["id"].flatMap(OriginalPayloads.key).flatMap({ Int($0) }),
                let changes = value["updateProductDto"], case .object = changes
            else { return nil }
            self.init(id: id, changes: changes)
        }

        public var json: [UInt8] {
            JSONValue.object([("id", .number(String(id))), ("updateProductDto", changes)]).json
        }
    }

    /// The response of `products.updateProduct`: TypeORM's update result, of which only
    /// `affected` (0 when the product does not exist) carries information.
    public struct UpdateResult: Sendable, Equatable {
        public var affected: Int

        public init(affected: Int) { self.affected = affected }

        public init?(_ value: JSONValue) {
            guard let affected = value["affected"]?.integer else { return nil }
            self.init(affected: affected)
        }

        public var json: [UInt8] {
            Array(#"{"generatedMaps":[],"raw":[],"affected":\#(affected)}"#.utf8)
        }
    }

    /// How the original customers service reports a failed write: `{"error": text}`.
    public static func errorAnswer(_ message: String) -> [UInt8] {
        JSONValue.object([("error", .string(message))]).json
    }

    /// The text of an ``errorAnswer(_:)``; `nil` for any other response. Reads the JSON's
    /// members without decoding a record's values.
    public static func errorMessage(_ json: [UInt8]) -> String? {
        guard let members = try? JSONObjectScanner.members(json), members.count == 1,
            members[0].key == "error"
        else { return nil }
        return (try? JSONValue.parse(json[members[0].value]))?.string
    }

    /// A key sent bare, as the original gateway sends path parameters: `"ALFKI"`, `1` or
    /// `"1"`; its text, or `nil` for anything else (an empty string included).
    public static func key(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text) where !text.isEmpty: return text
        case .number: return value.integer.map(String.init)
        default: return nil
        }
    }
}
