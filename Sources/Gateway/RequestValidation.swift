import Contracts

/// A request body that parsed as a JSON object and passed its route's schema: the bytes as
/// they came (forwarded unchanged) and the members (for routes that add a path parameter).
struct ValidatedBody: Sendable {
    let bytes: [UInt8]
    let members: [(key: String, value: JSONValue)]

    /// The body with `key` set (replacing a member of that name).
    func adding(_ key: String, _ value: JSONValue) -> JSONValue {
        .object(members.filter { $0.key != key } + [(key, value)])
    }
}

/// The JSON a route accepts, checked before anything is sent to a service: unknown fields,
/// missing required ones and wrong types are a 400 naming each field.
struct BodySchema: Sendable {
    enum Kind: Sendable { case string, integer, number, boolean, flag }

    struct Field: Sendable {
        let kind: Kind
        let isRequired: Bool
        let isNullable: Bool

        static func required(_ kind: Kind) -> Field { Field(kind: kind, isRequired: true, isNullable: false) }
        static func optional(_ kind: Kind, nullable: Bool = true) -> Field {
            Field(kind: kind, isRequired: false, isNullable: nullable)
        }
    }

    let fields: [String: Field]

    init(_ fields: [String: Field]) { self.fields = fields }

    func validate(_ members: [(key: String, value: JSONValue)]) throws(Problem) {
        var errors: [String: String] = [:]
        for member in members where fields[member.key] == nil { errors[member.key] = "is not a known field" }
        for (name, field) in fields {
            guard let value = members.first(where: { $0.key == name })?.value else {
                if field.isRequired { errors[name] = "is required" }
                continue
            }
            if value.isNull {
                if !field.isNullable { errors[name] = "must not be null" }
                continue
            }
            if !Self.matches(value, field.kind) { errors[name] = "must be \(Self.describe(field.kind))" }
        }
        if !errors.isEmpty { throw Problem.badRequest(errors) }
    }

    static func matches(_ value: JSONValue, _ kind: Kind) -> Bool {
        switch kind {
        case .string: return value.string != nil
        case .boolean: return value.bool != nil
        case .number: return value.double != nil
        case .integer:
            guard let number = value.double else { return false }
            return number.rounded() == number
        case .flag: return value.bool != nil || value.double == 0 || value.double == 1
        }
    }

    static func describe(_ kind: Kind) -> String {
        switch kind {
        case .string: return "a string"
        case .integer: return "an integer"
        case .number: return "a number"
        case .boolean: return "true or false"
        case .flag: return "true or false"
        }
    }

}

enum Schemas {
    static let register = BodySchema([
        "username": .required(.string), "email": .required(.string), "password": .required(.string),
    ])
    static let login = BodySchema(["email": .required(.string), "password": .required(.string)])
    static let refreshToken = BodySchema(["refresh_token": .required(.string)])

    static let customerText = [
        "contact_name", "contact_title", "address", "city", "region", "postal_code", "country", "phone",
        "fax",
    ]
    static let customerCreate = BodySchema(
        Dictionary(uniqueKeysWithValues: customerText.map { ($0, BodySchema.Field.optional(.string)) })
            .merging(["customer_id": .required(.string), "company_name": .required(.string)]) { $1 })
    static let customerUpdate = BodySchema(
        Dictionary(uniqueKeysWithValues: customerText.map { ($0, BodySchema.Field.optional(.string)) })
            .merging(["company_name": .optional(.string, nullable: false)]) { $1 })

    static let productFields: [String: BodySchema.Field] = [
        "product_name": .optional(.string, nullable: false), "supplier_id": .optional(.integer),
        "category_id": .optional(.integer), "quantity_per_unit": .optional(.string),
        "unit_price": .optional(.number),
        "units_in_stock": .optional(.integer), "units_on_order": .optional(.integer),
        "reorder_level": .optional(.integer), "discontinued": .optional(.flag, nullable: false),
    ]
    static let productCreate = BodySchema(productFields.merging(["product_name": .required(.string)]) { $1 })
    static let productUpdate = BodySchema(productFields)
}

/// Query parameters of the list routes.
struct QuerySchema: Sendable {
    let integers: Set<String>
    let strings: Set<String>
    let booleans: Set<String>

    func parse(_ parameters: [(String, String)]) throws(Problem) -> JSONValue {
        var out: [(key: String, value: JSONValue)] = []
        var errors: [String: String] = [:]
        for (key, value) in parameters {
            let parsed: JSONValue
            if integers.contains(key) {
                guard let number = Int(value) else {
                    errors[key] = "must be an integer"
                    continue
                }
                parsed = .number(String(number))
            } else if strings.contains(key) {
                parsed = .string(value)
            } else if booleans.contains(key) {
                switch value.lowercased() {
                case "true", "1": parsed = .bool(true)
                case "false", "0": parsed = .bool(false)
                default:
                    errors[key] = "must be true or false"
                    continue
                }
            } else {
                errors[key] = "is not a known query parameter"
                continue
            }
            // A repeated parameter: the last one counts.
            out.removeAll { $0.key == key }
            out.append((key, parsed))
        }
        if !errors.isEmpty { throw Problem.badRequest(errors) }
        return .object(out)
    }

    static let customers = QuerySchema(
        integers: ["page", "limit"], strings: ["search", "sort", "order"], booleans: [])
    static let products = QuerySchema(
        integers: ["page", "limit", "category_id", "supplier_id"], strings: ["search", "sort", "order"],
        booleans: ["discontinued"])
    static let none = QuerySchema(integers: [], strings: [], booleans: [])
}
