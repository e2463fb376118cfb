import Foundation

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

    func validate(_ object: [String: Any]) throws(Problem) {
        var errors: [String: String] = [:]
        for key in object.keys where fields[key] == nil { errors[key] = "is not a known field" }
        for (name, field) in fields {
            guard let value = object[name] else {
                if field.isRequired { errors[name] = "is required" }
                continue
            }
            if value is NSNull {
                if !field.isNullable { errors[name] = "must not be null" }
                continue
            }
            if !Self.matches(value, field.kind) { errors[name] = "must be \(Self.describe(field.kind))" }
        }
        if !errors.isEmpty { throw Problem.badRequest(errors) }
    }

    static func matches(_ value: Any, _ kind: Kind) -> Bool {
        let number = value as? NSNumber
        let isBool = number.map { String(cString: $0.objCType) == "c" } ?? false
        switch kind {
        case .string: return value is String
        case .boolean: return isBool
        case .number: return number != nil && !isBool
        case .integer:
            guard let number, !isBool else { return false }
            return number.doubleValue.rounded() == number.doubleValue
        case .flag: return isBool || (number.map { $0.doubleValue == 0 || $0.doubleValue == 1 } ?? false)
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

    func parse(_ parameters: [(String, String)]) throws(Problem) -> [String: Any] {
        var out: [String: Any] = [:]
        var errors: [String: String] = [:]
        for (key, value) in parameters {
            if integers.contains(key) {
                if let number = Int(value) { out[key] = number } else { errors[key] = "must be an integer" }
            } else if strings.contains(key) {
                out[key] = value
            } else if booleans.contains(key) {
                switch value.lowercased() {
                case "true", "1": out[key] = true
                case "false", "0": out[key] = false
                default: errors[key] = "must be true or false"
                }
            } else {
                errors[key] = "is not a known query parameter"
            }
        }
        if !errors.isEmpty { throw Problem.badRequest(errors) }
        return out
    }

    static let customers = QuerySchema(
        integers: ["page", "limit"], strings: ["search", "sort", "order"], booleans: [])
    static let products = QuerySchema(
        integers: ["page", "limit", "category_id", "supplier_id"], strings: ["search", "sort", "order"],
        booleans: ["discontinued"])
    static let none = QuerySchema(integers: [], strings: [], booleans: [])
}
