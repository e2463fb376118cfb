import Contracts

/// The OpenAPI 3.1 description of every operation, served at `GET /openapi.json`, generated
/// from ``API/operations`` and the field rules: what is routed, required and checked is
/// what is documented, by construction.
enum OpenAPIDocument {
    static let json: [UInt8] = document.json

    private static var document: JSONValue {
        var paths: [(key: String, value: JSONValue)] = []
        for operation in API.operations {
            let entry = (operation.method.rawValue.lowercased(), self.operation(operation))
            if let index = paths.firstIndex(where: { $0.key == operation.path }),
                case .object(let methods) = paths[index].value
            {
                paths[index].value = .object(methods + [entry])
            } else {
                paths.append((operation.path, .object([entry])))
            }
        }
        var bodies: [BodySchema] = []
        for operation in API.operations {
            guard case .forward(_, let input, _) = operation.target else { continue }
            switch input {
            case .body(let schema), .bodyAndKey(let schema, _):
                if !bodies.contains(where: { $0.name == schema.name }) { bodies.append(schema) }
            default: break
            }
        }
        let schemas: [(key: String, value: JSONValue)] =
            bodies.map { ($0.name, $0.jsonSchema) } + [
                (
                    "TokenPair",
                    object(
                        [
                            ("access_token", type("string")), ("refresh_token", type("string")),
                            ("token_type", type("string")), ("expires_in", type("integer")),
                        ], required: ["access_token", "refresh_token", "token_type", "expires_in"])
                ),
                (
                    "Page",
                    object(
                        [
                            ("data", type("array")), ("total", type("integer")), ("page", type("integer")),
                            ("limit", type("integer")), ("pages", type("integer")),
                        ], required: ["data", "total", "page", "limit", "pages"])
                ),
                (
                    "Problem",
                    object(
                        [
                            ("type", type("string")), ("title", type("string")), ("status", type("integer")),
                            ("detail", type("string")),
                            (
                                "errors",
                                .object([
                                    ("type", .string("object")), ("additionalProperties", type("string")),
                                ])
                            ),
                            ("request_id", type("string")),
                        ], required: ["type", "title", "status", "detail"])
                ),
            ]
        return .object([
            ("openapi", .string("3.1.0")),
            ("info", .object([("title", .string("NATSWire system API")), ("version", .string("1.0.0"))])),
            ("paths", .object(paths)),
            (
                "components",
                .object([
                    (
                        "securitySchemes",
                        .object([
                            (
                                "bearer",
                                .object([
                                    ("type", .string("http")), ("scheme", .string("bearer")),
                                    ("bearerFormat", .string("JWT")),
                                ])
                            )
                        ])
                    ),
                    ("schemas", .object(schemas)),
                ])
            ),
        ])
    }

    private static func operation(_ operation: Operation) -> JSONValue {
        let method = operation.method.rawValue.lowercased()
        var entry: [(key: String, value: JSONValue)] = [
            ("summary", .string(operation.summary)),
            (
                "operationId",
                .string(
                    method
                        + operation.path.replacing("/", with: "_").replacing("{", with: "")
                        .replacing("}", with: ""))
            ),
        ]
        var parameters: [JSONValue] = []
        var body: BodySchema?
        var status = "200"
        var keyed: String?
        if case .forward(let subject, let input, let success) = operation.target {
            status = String(success.code)
            keyed = IdempotencyRule.subjects.contains(subject) ? subject : nil
            switch input {
            case .query(let schema):
                parameters += schema.parameters.map {
                    parameter($0.name, in: "query", required: false, schema: $0.jsonSchema)
                }
            case .key(let key):
                parameters.append(parameter("id", in: "path", required: true, schema: keySchema(key)))
            case .bodyAndKey(let schema, let key):
                parameters.append(parameter("id", in: "path", required: true, schema: keySchema(key)))
                body = schema
            case .body(let schema): body = schema
            case .identity: break
            }
        }
        if case .local(.events) = operation.target {
            let sequence: JSONValue = .object([("type", .string("integer")), ("minimum", .number("0"))])
            parameters.append(parameter("after", in: "query", required: false, schema: sequence))
            parameters.append(parameter("Last-Event-ID", in: "header", required: false, schema: sequence))
        }
        parameters.append(parameter("X-Request-Id", in: "header", required: false, schema: type("string")))
        if let keyed {
            parameters.append(
                .object([
                    ("name", .string(IdempotencyRule.header)), ("in", .string("header")),
                    ("required", .bool(false)),
                    (
                        "description",
                        .string(IdempotencyRule.promise(for: keyed))
                    ),
                    (
                        "schema",
                        .object([
                            ("type", .string("string")), ("minLength", .number("1")),
                            ("maxLength", .number("255")),
                            ("pattern", .string("^[!-~]+$")),
                        ])
                    ),
                ]))
        }
        entry.append(("parameters", .array(parameters)))
        if let body {
            entry.append(
                (
                    "requestBody",
                    .object([
                        ("required", .bool(true)),
                        ("content", .object([("application/json", .object([("schema", ref(body.name))]))])),
                    ])
                ))
        }
        var responses: [(key: String, value: JSONValue)] = [
            (
                status,
                .object([
                    ("description", .string("Success")),
                    ("content", .object([(operation.contentType, .object([("schema", operation.result)]))])),
                ])
            ),
            ("400", problem("Invalid body, query or path parameter (each bad field named)")),
            ("503", problem("The service is not available")),
            ("504", problem("The service did not answer in time")),
        ]
        if body != nil { responses.append(("413", problem("The body is too large"))) }
        if operation.access == .bearer || operation.access == .admin {
            entry.append(("security", .array([.object([("bearer", .array([]))])])))
            responses.append(("401", problem("Missing, invalid or expired token")))
            if operation.access == .admin {
                responses.append(("403", problem("The token lacks the admin role")))
            }
        } else if operation.path == "/auth/login" || operation.path == "/auth/refresh" {
            responses.append(("401", problem("Wrong email or password, or an invalid refresh token")))
        }
        if operation.path == "/auth/login" {
            responses.append(("429", problem("Too many failed logins for this email; try again later")))
        }
        if operation.path.contains("{id}") || operation.path == "/auth/me" {
            responses.append(("404", problem("Not found")))
        }
        if operation.method != .get {
            responses.append(
                ("409", problem("Conflict: a duplicate, a record still referenced, or a reference to none")))
        }
        if let keyed, IdempotencyRule.refusesOtherBodies(keyed) {
            responses.append(
                ("422", problem("The Idempotency-Key was already used with a different request")))
        }
        responses.append(("405", problem("Method not allowed on this path")))
        entry.append(("responses", .object(responses)))
        return .object(entry)
    }

    private static func keySchema(_ key: Operation.Key) -> JSONValue {
        switch key {
        case .customer: return FieldRule("id", .customerID, nullable: false).jsonSchema
        case .numeric:
            return .object([
                ("type", .string("integer")), ("minimum", .number("1")), ("maximum", .number("32767")),
            ])
        }
    }

    private static func parameter(_ name: String, in location: String, required: Bool, schema: JSONValue)
        -> JSONValue
    {
        .object([
            ("name", .string(name)), ("in", .string(location)), ("required", .bool(required)),
            ("schema", schema),
        ])
    }

    private static func type(_ name: String) -> JSONValue { .object([("type", .string(name))]) }
    private static func ref(_ name: String) -> JSONValue {
        .object([("$ref", .string("#/components/schemas/\(name)"))])
    }

    private static func object(_ properties: [(key: String, value: JSONValue)], required: [String])
        -> JSONValue
    {
        .object([
            ("type", .string("object")), ("properties", .object(properties)),
            ("required", .array(required.map(JSONValue.string))), ("additionalProperties", .bool(false)),
        ])
    }

    private static func problem(_ description: String) -> JSONValue {
        .object([
            ("description", .string(description)),
            ("content", .object([("application/problem+json", .object([("schema", ref("Problem"))]))])),
        ])
    }
}
