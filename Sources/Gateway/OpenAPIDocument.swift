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
        var query: [(String, String)] = []
        var success = "200"
        var result: [String: Any] = ["type": "object"]
    }

    private static var customerFields: [String: Any] {
        [
            "customer_id": string(5), "company_name": string(40), "contact_name": nullable(30),
            "contact_title": nullable(30), "address": nullable(60), "city": nullable(15),
            "region": nullable(15),
            "postal_code": nullable(10), "country": nullable(15), "phone": nullable(24), "fax": nullable(24),
        ]
    }
    private static var productFields: [String: Any] {
        [
            "product_name": string(40), "supplier_id": ["type": ["integer", "null"]],
            "category_id": ["type": ["integer", "null"]], "quantity_per_unit": nullable(20),
            "unit_price": ["type": ["number", "null"], "minimum": 0],
            "units_in_stock": ["type": ["integer", "null"], "minimum": 0],
            "units_on_order": ["type": ["integer", "null"], "minimum": 0],
            "reorder_level": ["type": ["integer", "null"], "minimum": 0],
            "discontinued": ["type": ["boolean", "integer"]],
        ]
    }

    private static var operations: [Operation] {
        let pageQuery = [
            ("page", "integer"), ("limit", "integer"), ("search", "string"), ("sort", "string"),
            ("order", "string"),
        ]
        let productQuery =
            pageQuery + [("category_id", "integer"), ("supplier_id", "integer"), ("discontinued", "boolean")]
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
                method: "get", path: "/customers", summary: "List customers", secured: true, query: pageQuery,
                result: ref("Page")),
            Operation(
                method: "get", path: "/customers/findAll", summary: "List customers (original path)",
                secured: true, query: pageQuery, result: ref("Page")),
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
                result: ["type": "string"]),
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
                ["name": $0.0, "in": "query", "required": false, "schema": ["type": $0.1]]
            }
            if operation.path.contains("{id}") {
                parameters.append([
                    "name": "id", "in": "path", "required": true, "schema": ["type": "string"],
                ])
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
                    "description": "Success", "content": ["application/json": ["schema": operation.result]],
                ],
                "400": problem("Invalid body, query or path parameter (each bad field named)"),
                "503": problem("The service is not available"),
                "504": problem("The service did not answer in time"),
            ]
            if operation.body != nil { responses["413"] = problem("The body is too large") }
            if operation.secured {
                entry["security"] = [["bearer": [String]()]]
                responses["401"] = problem("Missing, invalid or expired token")
            }
            if operation.path.contains("{id}") || operation.path == "/auth/me" {
                responses["404"] = problem("Not found")
            }
            if operation.method != "get" {
                responses["409"] = problem("Conflict (duplicate, or still referenced)")
            }
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
                            "username": string(32), "email": string(254),
                            "password": ["type": "string", "minLength": 8],
                        ], required: ["username", "email", "password"]),
                    "Login": object(
                        ["email": ["type": "string"], "password": ["type": "string"]],
                        required: ["email", "password"]),
                    "RefreshToken": object(
                        ["refresh_token": ["type": "string"]], required: ["refresh_token"]),
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
    private static func string(_ maxLength: Int) -> [String: Any] {
        ["type": "string", "maxLength": maxLength]
    }
    private static func nullable(_ maxLength: Int) -> [String: Any] {
        ["type": ["string", "null"], "maxLength": maxLength]
    }
    private static func object(_ properties: [String: Any], required: [String]) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required, "additionalProperties": false]
    }
    private static func problem(_ description: String) -> [String: Any] {
        ["description": description, "content": ["application/problem+json": ["schema": ref("Problem")]]]
    }
}
