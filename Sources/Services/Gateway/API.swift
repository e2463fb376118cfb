import Contracts
import HTTPTypes

/// The gateway's API, described once: every operation's method, path, access, input and
/// target. The router, the bearer-token requirement, the request validation, the 405 map
/// and the OpenAPI document are all built from this table (see README, "One description of
/// the API": an operation table in code rather than a generated server, because the request
/// path forwards validated bytes without decoding them into types, which a generated server
/// would do for every request).
struct Operation: Sendable {
    enum Access: Sendable {
        /// No token.
        case open
        /// `Authorization: Bearer <token>`, verified by ``BearerAuthentication``.
        case bearer
        /// A bearer token whose roles include `admin` (``RequireRole``).
        case admin
    }

    /// The path parameter `{id}` of an operation.
    enum Key: Sendable {
        /// A customer id (5 letters or digits), sent as the string field `field`.
        case customer(field: String)
        /// An integer id from 1 to 32767, sent as the number field `field`.
        case numeric(field: String)

        var field: String {
            switch self {
            case .customer(let field), .numeric(let field): field
            }
        }
    }

    /// What the operation sends over NATS, and from what.
    enum Input: Sendable {
        /// The validated body, forwarded as it came.
        case body(BodySchema)
        /// The validated body with the path's key added.
        case bodyAndKey(BodySchema, Key)
        /// The path's key alone.
        case key(Key)
        /// The query parameters, validated.
        case query(QuerySchema)
        /// `{"user_id": <the token's subject>}`.
        case identity
    }

    enum Target: Sendable {
        /// One NATS request to `subject`; a reply is the response with `status`.
        case forward(subject: String, input: Input, status: HTTPResponse.Status)
        /// Answered by the gateway itself.
        case local(LocalRoute)
    }

    /// Routes the gateway answers itself.
    enum LocalRoute: Sendable {
        case health, ready, metrics, serviceMetrics, openAPI, docs
        /// The `EVENTS` stream as Server-Sent Events (``EventStream``).
        case events
    }

    let method: HTTPRequest.Method
    /// The OpenAPI form: `/products/{id}`.
    var path: String
    var summary: String
    let access: Access
    let target: Target
    /// The success body's schema and content type, for the document.
    var result: JSONValue = .object([("type", .string("object"))])
    var contentType = "application/json"
    /// How the operation calls the original NestJS/Go service when its upstream is `nest`;
    /// `nil`: the original has no such operation (501 then).
    var original: OriginalCall? = nil

    /// The router's form of the path: `/products/:id`.
    var routerPath: String { path.replacing("{id}", with: ":id") }

    /// The same operation under the original system's path.
    func original(_ path: String) -> Operation {
        var alias = self
        alias.path = path
        alias.summary += " (original path)"
        return alias
    }
}

enum API {
    static let register = BodySchema(
        "RegisterUser",
        fields: [
            FieldRule("username", .text(maxLength: UserRules.usernameLength.upperBound), nullable: false),
            FieldRule("email", .email, nullable: false),
            FieldRule("password", .text(maxLength: UserRules.passwordLength.upperBound), nullable: false),
        ], required: ["username", "email", "password"],
        documentation: [
            "username": [
                ("minLength", .number(String(UserRules.usernameLength.lowerBound))),
                ("pattern", .string(UserRules.usernamePattern)),
            ],
            "password": [
                ("minLength", .number(String(UserRules.passwordLength.lowerBound))),
                ("description", .string("8 to 72 characters (longer than 72 bytes: SHA-256 before bcrypt)")),
            ],
        ])
    static let login = BodySchema(
        "Login",
        fields: [
            FieldRule("email", .text(maxLength: nil), nullable: false),
            FieldRule("password", .text(maxLength: nil), nullable: false),
        ], required: ["email", "password"],
        documentation: ["email": [("minLength", .number("1"))], "password": [("minLength", .number("1"))]])
    static let refreshToken = BodySchema(
        "RefreshToken", fields: [FieldRule("refresh_token", .text(maxLength: nil), nullable: false)],
        required: ["refresh_token"], documentation: ["refresh_token": [("minLength", .number("1"))]])
    static let customerCreate = BodySchema.create("CustomerCreate", Records.customer)
    static let customerUpdate = BodySchema.update("CustomerUpdate", Records.customer)
    static let productCreate = BodySchema.create("ProductCreate", Records.product)
    static let productUpdate = BodySchema.update("ProductUpdate", Records.product)

    static let customersQuery = QuerySchema.list(ListOptions.customers)
    static let productsQuery = QuerySchema.list(ListOptions.products)

    static let customerKey = Operation.Key.customer(field: "customer_id")
    static let productKey = Operation.Key.numeric(field: "product_id")

    private static let page: JSONValue = .object([("$ref", .string("#/components/schemas/Page"))])
    private static let tokens: JSONValue = .object([("$ref", .string("#/components/schemas/TokenPair"))])
    private static let array: JSONValue = .object([("type", .string("array"))])

    private static let listCustomers = Operation(
        method: .get, path: "/customers", summary: "List customers", access: .bearer,
        target: .forward(subject: CustomersSubject.list, input: .query(customersQuery), status: .ok),
        result: page, original: .listCustomers)
    private static let createCustomer = Operation(
        method: .post, path: "/customers", summary: "Create a customer", access: .bearer,
        target: .forward(subject: CustomersSubject.create, input: .body(customerCreate), status: .created),
        original: .createCustomer)
    private static let updateCustomer = Operation(
        method: .patch, path: "/customers/{id}", summary: "Update a customer", access: .bearer,
        target: .forward(
            subject: CustomersSubject.update, input: .bodyAndKey(customerUpdate, customerKey), status: .ok),
        original: .updateCustomer)
    private static let deleteCustomer = Operation(
        method: .delete, path: "/customers/{id}", summary: "Delete a customer", access: .bearer,
        target: .forward(subject: CustomersSubject.delete, input: .key(customerKey), status: .ok))
    private static let listProducts = Operation(
        method: .get, path: "/products", summary: "List products", access: .bearer,
        target: .forward(subject: ProductsSubject.list, input: .query(productsQuery), status: .ok),
        result: page, original: .listProducts)
    private static let createProduct = Operation(
        method: .post, path: "/products", summary: "Create a product", access: .bearer,
        target: .forward(subject: ProductsSubject.create, input: .body(productCreate), status: .created),
        original: .createProduct)

    /// A collection only read: list it, get one by its numeric id.
    private static func readOnly(
        _ path: String, _ plural: String, _ singular: String, list: String, get: String, key: String
    ) -> [Operation] {
        [
            Operation(
                method: .get, path: path, summary: "List \(plural)", access: .bearer,
                target: .forward(subject: list, input: .query(.none), status: .ok), result: array),
            Operation(
                method: .get, path: path + "/{id}", summary: "Get a \(singular)", access: .bearer,
                target: .forward(subject: get, input: .key(.numeric(field: key)), status: .ok)),
        ]
    }

    /// Every operation, the original system's paths included as aliases.
    static let operations: [Operation] =
        [
            Operation(
                method: .post, path: "/auth/register", summary: "Register a user", access: .open,
                target: .forward(subject: AuthSubject.register, input: .body(register), status: .created),
                original: .register),
            Operation(
                method: .post, path: "/auth/login", summary: "Log in", access: .open,
                target: .forward(subject: AuthSubject.login, input: .body(login), status: .ok),
                result: tokens,
                original: .login),
            Operation(
                method: .post, path: "/auth/refresh", summary: "Rotate a refresh token", access: .open,
                target: .forward(subject: AuthSubject.refresh, input: .body(refreshToken), status: .ok),
                result: tokens),
            Operation(
                method: .post, path: "/auth/logout", summary: "Revoke a login", access: .bearer,
                target: .forward(subject: AuthSubject.logout, input: .body(refreshToken), status: .ok)),
            Operation(
                method: .get, path: "/auth/me", summary: "The current user", access: .bearer,
                target: .forward(subject: AuthSubject.me, input: .identity, status: .ok)),

            listCustomers, listCustomers.original("/customers/findAll"),
            createCustomer, createCustomer.original("/customers/create"),
            Operation(
                method: .get, path: "/customers/{id}", summary: "Get a customer", access: .bearer,
                target: .forward(subject: CustomersSubject.get, input: .key(customerKey), status: .ok),
                original: .getCustomer),
            updateCustomer, updateCustomer.original("/customers/update/{id}"),
            deleteCustomer, deleteCustomer.original("/customers/delete/{id}"),

            listProducts, listProducts.original("/products/findAll"),
            createProduct, createProduct.original("/products/create"),
            Operation(
                method: .get, path: "/products/{id}",
                summary: "Get a product with its category and supplier names",
                access: .bearer,
                target: .forward(subject: ProductsSubject.get, input: .key(productKey), status: .ok),
                original: .getProduct),
            Operation(
                method: .patch, path: "/products/{id}", summary: "Update a product", access: .bearer,
                target: .forward(
                    subject: ProductsSubject.update, input: .bodyAndKey(productUpdate, productKey),
                    status: .ok),
                original: .updateProduct),
            Operation(
                method: .delete, path: "/products/{id}", summary: "Delete a product", access: .bearer,
                target: .forward(subject: ProductsSubject.delete, input: .key(productKey), status: .ok)),
        ]
        + readOnly(
            "/categories", "categories", "category", list: ProductsSubject.listCategories,
            get: ProductsSubject.getCategory, key: "category_id")
        + readOnly(
            "/suppliers", "suppliers", "supplier", list: ProductsSubject.listSuppliers,
            get: ProductsSubject.getSupplier, key: "supplier_id")
        + [
            Operation(
                method: .get, path: "/health", summary: "The process is up", access: .open,
                target: .local(.health)),
            Operation(
                method: .get, path: "/ready", summary: "NATS is connected and every service answers",
                access: .open,
                target: .local(.ready)),
            Operation(
                method: .get, path: "/metrics",
                summary: "This gateway process's metrics (Prometheus text format)",
                access: .open, target: .local(.metrics),
                result: .object([("type", .string("string"))]), contentType: "text/plain"),
            Operation(
                method: .get, path: "/metrics/services",
                summary:
                    "Every service instance's metrics, gathered over NATS, labelled `service` and `service_instance` (Prometheus text format)",
                access: .open, target: .local(.serviceMetrics),
                result: .object([("type", .string("string"))]), contentType: "text/plain"),
            Operation(
                method: .get, path: "/openapi.json", summary: "This document", access: .open,
                target: .local(.openAPI)),
            Operation(
                method: .get, path: "/docs",
                summary: "This document as a page to read, with a form to try each operation",
                access: .open, target: .local(.docs),
                result: .object([("type", .string("string"))]), contentType: "text/html"),
            Operation(
                method: .get, path: "/events",
                summary:
                    "Domain events as Server-Sent Events: replayed from after the stream sequence `after` (or `Last-Event-ID`), then live; admins only",
                access: .admin, target: .local(.events),
                result: .object([("type", .string("string"))]), contentType: "text/event-stream"),
        ]
}
