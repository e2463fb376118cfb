import Foundation
import ServiceRuntime

/// The OpenAPI 3.1 description of every route, served at `GET /openapi.json`. A test keeps
/// it true: every route registered in `Routes.swift` is here and every path here answers.
enum OpenAPIDocument {
    private struct Operation {
        let method: String
        let path: String
        let summary: String
        let secured: Bool
        var body: String?
        var query: [(String, [String: Any])] = []
        var success = "200"
        var result: [String: Any] = ["type": "object"]
        var contentType = "application/json"
    }

    /// Customer ids are Northwind's 5-character codes; every other id is a smallint ≥ 1.
    private static var customerID: [String: Any] { ["type": "string", "pattern": "^[A-Za-z0-9]{5}$"] }
    private static var numericID: [String: Any] { ["type": "integer", "minimum": 1, "maximum": 32767] }
    private static var smallint: [String: Any] {
        ["type": ["integer", "null"], "minimum": 0, "maximum": 32767]
    }

    private static var customerFields: [String: Any] {
        [
            "customer_id": customerID, "company_name": string(40), "contact_name": nullable(30),
            "contact_title": nullable(30), "address": nullable(60), "city": nullable(15),
            "region": nullable(15),
            "postal_code": nullable(10), "country": nullable(15), "phone": nullable(24), "fax": nullable(24),
        ]
    }
    private static var productFields: [String: Any] {
        [
            "product_name": string(40), "supplier_id": smallint,
            "category_id": smallint, "quantity_per_unit": nullable(20),
            "unit_price": ["type": ["number", "null"], "minimum": 0, "maximum": 3.4e38],
            "units_in_stock": smallint, "units_on_order": smallint, "reorder_level": smallint,
            "discontinued": ["type": ["boolean", "integer"], "minimum": 0, "maximum": 1],
        ]
    }

    private static var operations: [Operation] {
        func pageQuery(sortable: [String]) -> [(String, [String: Any])] {
            [
                ("page", ["type": "integer", "minimum": 1, "maximum": 1_000_000]),
                ("limit", ["type": "integer", "minimum": 1, "maximum": 100]),
                ("search", ["type": "string"]),
                ("sort", ["type": "string", "enum": sortable]),
                ("order", ["type": "string", "enum": ["asc", "desc", "ASC", "DESC"]]),
            ]
        }
        let customerQuery = pageQuery(sortable: [
            "customer_id", "company_name", "contact_name", "city", "country",
        ])
        let productQuery =
            pageQuery(sortable: [
                "product_id", "product_name", "unit_price", "units_in_stock", "category_id", "supplier_id",
            ]) + [
                ("category_id", ["type": "integer", "minimum": 0, "maximum": 32767]),
                ("supplier_id", ["type": "integer", "minimum": 0, "maximum": 32767]),
                ("discontinued", ["type": "boolean"]),
            ]
        return [
            Operation(
                method: "post", path: "/auth/register", summary: "Register a user", secured: false,
                body: "RegisterUser", success: "201"),
            Operation(
                method: "post", path: "/auth/login", summary: "Log in", secured: false, body: "Login",
                result: ref("TokenPair")),
            Operation(
                method: "post", path: "/auth/refresh", summary: "Rotate a refresh token", secured: false,
                body: "RefreshToken", result: ref("TokenPair")),
            Operation(
                method: "post", path: "/auth/logout", summary: "Revoke a login", secured: true,
                body: "RefreshToken"),
            Operation(method: "get", path: "/auth/me", summary: "The current user", secured: true),
            Operation(
                method: "get", path: "/customers", summary: "List customers", secured: true,
                query: customerQuery,
                result: ref("Page")),
            Operation(
                method: "get", path: "/customers/findAll", summary: "List customers (original path)",
                secured: true, query: customerQuery, result: ref("Page")),
            Operation(
                method: "post", path: "/customers", summary: "Create a customer", secured: true,
                body: "CustomerCreate", success: "201"),
            Operation(
                method: "post", path: "/customers/create", summary: "Create a customer (original path)",
                secured: true, body: "CustomerCreate", success: "201"),
            Operation(method: "get", path: "/customers/{id}", summary: "Get a customer", secured: true),
            Operation(
                method: "patch", path: "/customers/{id}", summary: "Update a customer", secured: true,
                body: "CustomerUpdate"),
            Operation(
                method: "patch", path: "/customers/update/{id}", summary: "Update a customer (original path)",
                secured: true, body: "CustomerUpdate"),
            Operation(method: "delete", path: "/customers/{id}", summary: "Delete a customer", secured: true),
            Operation(
                method: "delete", path: "/customers/delete/{id}",
                summary: "Delete a customer (original path)", secured: true),
            Operation(
                method: "get", path: "/products", summary: "List products", secured: true,
                query: productQuery, result: ref("Page")),
            Operation(
                method: "get", path: "/products/findAll", summary: "List products (original path)",
                secured: true, query: productQuery, result: ref("Page")),
            Operation(
                method: "post", path: "/products", summary: "Create a product", secured: true,
                body: "ProductCreate", success: "201"),
            Operation(
                method: "post", path: "/products/create", summary: "Create a product (original path)",
                secured: true, body: "ProductCreate", success: "201"),
            Operation(
                method: "get", path: "/products/{id}",
                summary: "Get a product with its category and supplier names", secured: true),
            Operation(
                method: "patch", path: "/products/{id}", summary: "Update a product", secured: true,
                body: "ProductUpdate"),
            Operation(method: "delete", path: "/products/{id}", summary: "Delete a product", secured: true),
            Operation(
                method: "get", path: "/categories", summary: "List categories", secured: true,
                result: ["type": "array"]),
            Operation(method: "get", path: "/categories/{id}", summary: "Get a category", secured: true),
            Operation(
                method: "get", path: "/suppliers", summary: "List suppliers", secured: true,
                result: ["type": "array"]),
            Operation(method: "get", path: "/suppliers/{id}", summary: "Get a supplier", secured: true),
            Operation(method: "get", path: "/health", summary: "The process is up", secured: false),
            Operation(
                method: "get", path: "/ready", summary: "NATS is connected and every service answers",
                secured: false),
            Operation(
                method: "get", path: "/metrics", summary: "Prometheus metrics", secured: false,
                result: ["type": "string"], contentType: "text/plain"),
            Operation(method: "get", path: "/openapi.json", summary: "This document", secured: false),
        ]
    }

    /// (method, path) of every documented operation.
    static var routes: [(String, String)] { operations.map { ($0.method.uppercased(), $0.path) } }

    static let json: [UInt8] = (try? JSONWriter.bytes(document)) ?? Array("{}".utf8)

    private static var document: [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            var entry: [String: Any] = [
                "summary": operation.summary,
                "operationId": operation.method
                    + operation.path.replacingOccurrences(of: "/", with: "_")
                    .replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: ""),
            ]
            var parameters: [[String: Any]] = operation.query.map {
                ["name": $0.0, "in": "query", "required": false, "schema": $0.1]
            }
            if operation.path.contains("{id}") {
                let schema = operation.path.hasPrefix("/customers") ? customerID : numericID
                parameters.append(["name": "id", "in": "path", "required": true, "schema": schema])
            }
            parameters.append([
                "name": "X-Request-Id", "in": "header", "required": false, "schema": ["type": "string"],
            ])
            entry["parameters"] = parameters
            if let body = operation.body {
                entry["requestBody"] = [
                    "required": true, "content": ["application/json": ["schema": ref(body)]],
                ]
            }
            var responses: [String: Any] = [
                operation.success: [
                    "description": "Success",
                    "content": [operation.contentType: ["schema": operation.result]],
                ],
                "400": problem("Invalid body, query or path parameter (each bad field named)"),
                "503": problem("The service is not available"),
                "504": problem("The service did not answer in time"),
            ]
            if operation.body != nil { responses["413"] = problem("The body is too large") }
            if operation.secured {
                entry["security"] = [["bearer": [String]()]]
                responses["401"] = problem("Missing, invalid or expired token")
            } else if operation.path == "/auth/login" || operation.path == "/auth/refresh" {
                responses["401"] = problem("Wrong email or password, or an invalid refresh token")
            }
            if operation.path == "/auth/login" {
                responses["429"] = problem("Too many failed logins for this email; try again later")
            }
            if operation.path.contains("{id}") || operation.path == "/auth/me" {
                responses["404"] = problem("Not found")
            }
            if operation.method != "get" {
                responses["409"] = problem(
                    "Conflict: a duplicate, a record still referenced, or a reference to none")
            }
            responses["405"] = problem("Method not allowed on this path")
            entry["responses"] = responses
            paths[operation.path, default: [:]][operation.method] = entry
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "NATSWire system API", "version": "1.0.0"],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": [
                    "RegisterUser": object(
                        [
                            "username": [
                                "type": "string", "minLength": 3, "maxLength": 32,
                                "pattern": "^[A-Za-z0-9_.-]([A-Za-z0-9_. -]*[A-Za-z0-9_.-])?$",
                            ],
                            "email": ["type": "string", "format": "email", "maxLength": 254],
                            "password": [
                                "type": "string", "minLength": 8, "maxLength": 72,
                                "description":
                                    "8 to 72 characters (longer than 72 bytes: SHA-256 before bcrypt)",
                            ],
                        ], required: ["username", "email", "password"]),
                    "Login": object(
                        [
                            "email": ["type": "string", "minLength": 1],
                            "password": ["type": "string", "minLength": 1],
                        ],
                        required: ["email", "password"]),
                    "RefreshToken": object(
                        ["refresh_token": ["type": "string", "minLength": 1]], required: ["refresh_token"]),
                    "TokenPair": object(
                        [
                            "access_token": ["type": "string"], "refresh_token": ["type": "string"],
                            "token_type": ["type": "string"], "expires_in": ["type": "integer"],
                        ], required: ["access_token", "refresh_token", "token_type", "expires_in"]),
                    "CustomerCreate": object(customerFields, required: ["customer_id", "company_name"]),
                    "CustomerUpdate": object(customerFields.filter { $0.key != "customer_id" }, required: []),
                    "ProductCreate": object(productFields, required: ["product_name"]),
                    "ProductUpdate": object(productFields, required: []),
                    "Page": object(
                        [
                            "data": ["type": "array"], "total": ["type": "integer"],
                            "page": ["type": "integer"], "limit": ["type": "integer"],
                            "pages": ["type": "integer"],
                        ], required: ["data", "total", "page", "limit", "pages"]),
                    "Problem": object(
                        [
                            "type": ["type": "string"], "title": ["type": "string"],
                            "status": ["type": "integer"], "detail": ["type": "string"],
                            "errors": ["type": "object", "additionalProperties": ["type": "string"]],
                            "request_id": ["type": "string"],
                        ], required: ["type", "title", "status", "detail"]),
                ],
            ],
        ]
    }

    private static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }
    /// Text columns: at most `maxLength` code points, and no NUL (PostgreSQL cannot store it).
    private static func string(_ maxLength: Int) -> [String: Any] {
        ["type": "string", "maxLength": maxLength, "pattern": "^[^\\u0000]*$"]
    }
    private static func nullable(_ maxLength: Int) -> [String: Any] {
        ["type": ["string", "null"], "maxLength": maxLength, "pattern": "^[^\\u0000]*$"]
    }
    private static func object(_ properties: [String: Any], required: [String]) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required, "additionalProperties": false]
    }
    private static func problem(_ description: String) -> [String: Any] {
        ["description": description, "content": ["application/problem+json": ["schema": ref("Problem")]]]
    }
}
