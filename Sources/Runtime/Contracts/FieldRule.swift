/// One field of a record on the wire: its name (snake_case, as the column), what values it
/// takes and whether it may be null. The single source of each field's rules: the gateway
/// validates with it and documents it in OpenAPI, the services validate with it again and
/// map it to their columns.
public struct FieldRule: Sendable {
    public enum Kind: Sendable {
        /// A string of at most `maxLength` code points (as PostgreSQL's varchar counts), no NUL.
        case text(maxLength: Int?)
        /// An integer from `min` to 32767 (PostgreSQL smallint).
        case smallint(min: Int)
        /// A 32-bit integer.
        case integer
        /// A number from `min` to 3.4e38, stored as a float4.
        case real(min: Double)
        /// Northwind's `discontinued integer`: 0 or 1, accepted as a boolean too.
        case flag
        /// Northwind's customer id: 5 ASCII letters or digits.
        case customerID
        /// An email address as ``FieldRule/emailPattern`` describes it.
        case email
    }

    public let name: String
    public let kind: Kind
    public let nullable: Bool

    public init(_ name: String, _ kind: Kind, nullable: Bool = true) {
        self.name = name
        self.kind = kind
        self.nullable = nullable
    }

    /// Checks one JSON value: its text form for a database parameter (`nil` for null), or
    /// what is wrong with it.
    public func check(_ value: JSONValue) -> Result<String?, FieldProblem> {
        if value.isNull { return nullable ? .success(nil) : .failure(FieldProblem("must not be null")) }
        switch kind {
        case .text(let maxLength):
            guard let text = value.string else { return .failure(FieldProblem("must be a string")) }
            if let maxLength, text.unicodeScalars.count > maxLength {
                return .failure(FieldProblem("must be at most \(maxLength) characters"))
            }
            if text.utf8.contains(0) { return .failure(FieldProblem("must not contain NUL characters")) }
            return .success(text)
        case .customerID:
            guard let text = value.string, Self.isCustomerID(text) else {
                return .failure(FieldProblem("must be 5 letters or digits"))
            }
            return .success(text)
        case .email:
            guard let text = value.string, Self.isEmail(text) else {
                return .failure(FieldProblem("is not a valid email address"))
            }
            return .success(text)
        case .smallint(let min):
            guard let number = value.integer, number >= min, number <= 32767 else {
                return .failure(FieldProblem("must be an integer from \(min) to 32767"))
            }
            return .success(String(number))
        case .integer:
            guard let number = value.integer, number >= Int(Int32.min), number <= Int(Int32.max) else {
                return .failure(FieldProblem("must be an integer"))
            }
            return .success(String(number))
        case .real(let min):
            guard let double = value.double, double.isFinite, double >= min, double <= 3.4e38 else {
                return .failure(FieldProblem("must be a number ≥ \(JSONOutput.number(min))"))
            }
            // A float4 cannot hold every double (1e-67): store the float4 it rounds to instead
            // of failing with "out of range".
            return .success(String(Float(double)))
        case .flag:
            if let flag = value.bool { return .success(flag ? "1" : "0") }
            if let number = value.double, number == 0 || number == 1 {
                return .success(number == 1 ? "1" : "0")
            }
            return .failure(FieldProblem("must be true/false or 0/1"))
        }
    }

    /// The field's JSON Schema (OpenAPI 3.1).
    public var jsonSchema: JSONValue {
        func typed(_ type: String) -> JSONValue {
            nullable ? .array([.string(type), .string("null")]) : .string(type)
        }
        let noNUL: (key: String, value: JSONValue) = ("pattern", .string("^[^\\u0000]*$"))
        switch kind {
        case .text(let maxLength):
            var members: [(key: String, value: JSONValue)] = [("type", typed("string"))]
            if let maxLength { members.append(("maxLength", .number(String(maxLength)))) }
            return .object(members + [noNUL])
        case .customerID:
            return .object([("type", typed("string")), ("pattern", .string("^[A-Za-z0-9]{5}$"))])
        case .email:
            return .object([
                ("type", typed("string")), ("maxLength", .number("254")),
                ("pattern", .string(Self.emailPattern)),
            ])
        case .smallint(let min):
            return .object([
                ("type", typed("integer")), ("minimum", .number(String(min))), ("maximum", .number("32767")),
            ])
        case .integer:
            return .object([
                ("type", typed("integer")), ("minimum", .number(String(Int32.min))),
                ("maximum", .number(String(Int32.max))),
            ])
        case .real(let min):
            return .object([
                ("type", typed("number")), ("minimum", .number(JSONOutput.number(min))),
                ("maximum", .number("3.4e38")),
            ])
        case .flag:
            return .object([
                ("type", .array([.string("boolean"), .string("integer")])), ("minimum", .number("0")),
                ("maximum", .number("1")),
            ])
        }
    }

    /// The email addresses the API takes, as a JSON Schema pattern. ASCII only (so 254
    /// characters are 254 bytes), no quoting: `local@label.label.tld`, labels of letters,
    /// digits and inner hyphens, a top-level domain of 2 or more letters or an `xn--` one.
    /// ``isEmail(_:)`` is the same rule in code.
    public static let emailPattern =
        "^[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+([A-Za-z]{2,}|[Xx][Nn]--[A-Za-z0-9-]+)$"

    public static func isEmail(_ text: String) -> Bool {
        func isLetter(_ byte: UInt8) -> Bool {
            (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let bytes = Array(text.utf8)
        guard bytes.count <= 254, let at = bytes.firstIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at]
        let localSymbols = Array("._%+-".utf8)
        guard (1...64).contains(local.count),
            local.allSatisfy({ isLetter($0) || isDigit($0) || localSymbols.contains($0) })
        else { return false }
        let labels = bytes[(at + 1)...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, let last = labels.last else { return false }
        for label in labels.dropLast() {
            guard let first = label.first, let end = label.last, isLetter(first) || isDigit(first),
                isLetter(end) || isDigit(end),
                label.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        if last.count > 4, last.prefix(4).map({ $0 | 0x20 }) == Array("xn--".utf8) {
            return last.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        }
        return last.count >= 2 && last.allSatisfy(isLetter)
    }

    public static func isCustomerID(_ text: String) -> Bool {
        text.utf8.count == 5
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
    }
}

/// What is wrong with one field's value, in words a client can act on.
public struct FieldProblem: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// A record the API creates and updates: its fields, its key, and which fields a create
/// must name.
public struct RecordRules: Sendable {
    public let fields: [FieldRule]
    /// The key field, given by the path (never in a body, except a customer's on create).
    public let key: String
    /// Fields a create must have (the others may be left out: null or a default).
    public let requiredOnCreate: Set<String>
    /// Fields a create may set: the key only where the client chooses it (customers).
    public let writableOnCreate: Set<String>
    /// Fields a list may be sorted by.
    public let sortable: [String]

    public init(
        fields: [FieldRule], key: String, requiredOnCreate: Set<String> = [],
        writableOnCreate: Set<String> = [],
        sortable: [String] = []
    ) {
        self.fields = fields
        self.key = key
        self.requiredOnCreate = requiredOnCreate
        self.writableOnCreate = writableOnCreate
        self.sortable = sortable
    }

    public func field(_ name: String) -> FieldRule? { fields.first { $0.name == name } }

    /// Fields an update may set: everything but the key.
    public var writableOnUpdate: Set<String> { Set(fields.map(\.name)).subtracting([key]) }
}

/// The Northwind records as this API exposes them.
public enum Records {
    /// A company and how to reach it: Northwind's customers and suppliers share these columns.
    static let company = [
        FieldRule("company_name", .text(maxLength: 40), nullable: false),
        FieldRule("contact_name", .text(maxLength: 30)), FieldRule("contact_title", .text(maxLength: 30)),
        FieldRule("address", .text(maxLength: 60)), FieldRule("city", .text(maxLength: 15)),
        FieldRule("region", .text(maxLength: 15)), FieldRule("postal_code", .text(maxLength: 10)),
        FieldRule("country", .text(maxLength: 15)), FieldRule("phone", .text(maxLength: 24)),
        FieldRule("fax", .text(maxLength: 24)),
    ]

    public static let customer = RecordRules(
        fields: [FieldRule("customer_id", .customerID, nullable: false)] + company, key: "customer_id",
        requiredOnCreate: ["customer_id", "company_name"],
        writableOnCreate: [
            "customer_id", "company_name", "contact_name", "contact_title", "address", "city", "region",
            "postal_code", "country", "phone", "fax",
        ], sortable: ["customer_id", "company_name", "contact_name", "city", "country"])

    public static let product = RecordRules(
        fields: [
            FieldRule("product_id", .smallint(min: 1), nullable: false),
            FieldRule("product_name", .text(maxLength: 40), nullable: false),
            FieldRule("supplier_id", .smallint(min: 0)), FieldRule("category_id", .smallint(min: 0)),
            FieldRule("quantity_per_unit", .text(maxLength: 20)), FieldRule("unit_price", .real(min: 0)),
            FieldRule("units_in_stock", .smallint(min: 0)), FieldRule("units_on_order", .smallint(min: 0)),
            FieldRule("reorder_level", .smallint(min: 0)), FieldRule("discontinued", .flag, nullable: false),
        ], key: "product_id", requiredOnCreate: ["product_name"],
        writableOnCreate: [
            "product_name", "supplier_id", "category_id", "quantity_per_unit", "unit_price", "units_in_stock",
            "units_on_order", "reorder_level", "discontinued",
        ],
        sortable: [
            "product_id", "product_name", "unit_price", "units_in_stock", "category_id", "supplier_id",
        ])

    public static let category = RecordRules(
        fields: [
            FieldRule("category_id", .smallint(min: 0), nullable: false),
            FieldRule("category_name", .text(maxLength: 15), nullable: false),
            FieldRule("description", .text(maxLength: nil)),
        ], key: "category_id")

    public static let supplier = RecordRules(
        fields: [FieldRule("supplier_id", .smallint(min: 0), nullable: false)] + company + [
            FieldRule("homepage", .text(maxLength: nil))
        ], key: "supplier_id")
}
