import Contracts

/// The JSON body a route accepts, checked before anything is sent to a service: unknown
/// fields, missing required ones and values that break a field's rule are a 400 naming each
/// field. Built from the same ``FieldRule``s the services check again, and documented in
/// OpenAPI from them too.
struct BodySchema: Sendable {
    /// The name of the body's schema in the OpenAPI document.
    let name: String
    let fields: [FieldRule]
    let required: Set<String>
    /// Extra JSON Schema keywords per field for the document (auth bodies' formats and
    /// patterns, which the auth service checks).
    let documentation: [String: [(key: String, value: JSONValue)]]

    init(
        _ name: String, fields: [FieldRule], required: Set<String>,
        documentation: [String: [(key: String, value: JSONValue)]] = [:]
    ) {
        self.name = name
        self.fields = fields
        self.required = required
        self.documentation = documentation
    }

    /// A record's create body: the fields a create may set.
    static func create(_ name: String, _ record: RecordRules) -> BodySchema {
        BodySchema(
            name, fields: record.fields.filter { record.writableOnCreate.contains($0.name) },
            required: record.requiredOnCreate)
    }

    /// A record's update body: every field but the key, none required.
    static func update(_ name: String, _ record: RecordRules) -> BodySchema {
        BodySchema(name, fields: record.fields.filter { $0.name != record.key }, required: [])
    }

    func validate(_ members: [(key: String, value: JSONValue)]) throws(Problem) {
        var errors: [String: String] = [:]
        for member in members where !fields.contains(where: { $0.name == member.key }) {
            errors[member.key] = "is not a known field"
        }
        for field in fields {
            guard let value = members.first(where: { $0.key == field.name })?.value else {
                if required.contains(field.name) { errors[field.name] = "is required" }
                continue
            }
            if case .failure(let problem) = field.check(value) { errors[field.name] = problem.message }
        }
        if !errors.isEmpty { throw Problem.badRequest(errors) }
    }

    /// The body's JSON Schema.
    var jsonSchema: JSONValue {
        .object([
            ("type", .string("object")),
            (
                "properties",
                .object(
                    fields.map { field in
                        guard case .object(let members) = field.jsonSchema else {
                            return (field.name, field.jsonSchema)
                        }
                        // A documented keyword replaces the rule's own of that name.
                        let extra = documentation[field.name] ?? []
                        let kept = members.filter { member in !extra.contains { $0.key == member.key } }
                        return (field.name, .object(kept + extra))
                    })
            ),
            ("required", .array(fields.map(\.name).filter(required.contains).map(JSONValue.string))),
            ("additionalProperties", .bool(false)),
        ])
    }
}

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

/// Query parameters of a list route: the list options its subject takes (`Contracts`), read
/// from URL query text and forwarded as JSON in their own types.
struct QuerySchema: Sendable {
    let parameters: [ListOption]

    func parse(_ given: [(String, String)]) throws(Problem) -> JSONValue {
        var out: [(key: String, value: JSONValue)] = []
        var errors: [String: String] = [:]
        for (key, text) in given {
            guard let parameter = parameters.first(where: { $0.name == key }) else {
                errors[key] = "is not a known query parameter"
                continue
            }
            switch parameter.check(.string(text)) {
            case .success(let value):
                // A repeated parameter: the last one counts.
                out.removeAll { $0.key == key }
                out.append((key, value))
            case .failure(let problem): errors[key] = problem.message
            }
        }
        if !errors.isEmpty { throw Problem.badRequest(errors) }
        return .object(out)
    }

    static func list(_ options: ListOptions) -> QuerySchema { QuerySchema(parameters: options.options) }

    static let none = QuerySchema(parameters: [])
}
