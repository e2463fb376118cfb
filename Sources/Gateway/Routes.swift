import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import NATSWire

extension Gateway {
    /// Every route of the API, and the original system's paths as aliases.
    func routes(_ router: Router<BasicRequestContext>) {
        // Auth
        router.post("/auth/register") { request, context in
            await handle(request, context, authenticated: false) { request, _, _ throws(Problem) in
                Call(
                    subject: AuthSubject.register,
                    body: try await jsonBody(request, schema: Schemas.register),
                    successStatus: .created)
            }
        }
        router.post("/auth/login") { request, context in
            await handle(request, context, authenticated: false) { request, _, _ throws(Problem) in
                Call(subject: AuthSubject.login, body: try await jsonBody(request, schema: Schemas.login))
            }
        }
        router.post("/auth/refresh") { request, context in
            await handle(request, context, authenticated: false) { request, _, _ throws(Problem) in
                Call(
                    subject: AuthSubject.refresh,
                    body: try await jsonBody(request, schema: Schemas.refreshToken))
            }
        }
        router.post("/auth/logout") { request, context in
            await handle(request, context, authenticated: true) { request, _, _ throws(Problem) in
                Call(
                    subject: AuthSubject.logout,
                    body: try await jsonBody(request, schema: Schemas.refreshToken))
            }
        }
        router.get("/auth/me") { request, context in
            await handle(request, context, authenticated: true) { _, _, identity throws(Problem) in
                Call(
                    subject: AuthSubject.me, payload: .object([("user_id", .string(identity?.userID ?? ""))]))
            }
        }

        // Customers
        let listCustomers: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await handle(request, context, authenticated: true) { request, _, _ throws(Problem) in
                Call(subject: CustomersSubject.list, payload: try Self.query(request, .customers))
            }
        }
        router.get("/customers", use: listCustomers)
        router.get("/customers/findAll", use: listCustomers)
        let createCustomer: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await handle(request, context, authenticated: true) { request, _, _ throws(Problem) in
                Call(
                    subject: CustomersSubject.create,
                    body: try await jsonBody(request, schema: Schemas.customerCreate),
                    successStatus: .created)
            }
        }
        router.post("/customers", use: createCustomer)
        router.post("/customers/create", use: createCustomer)
        router.get("/customers/:id") { request, context in
            await handle(request, context, authenticated: true) { _, context, _ throws(Problem) in
                Call(
                    subject: CustomersSubject.get,
                    payload: .object([("customer_id", .string(try Self.customerID(context)))]))
            }
        }
        let updateCustomer: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await handle(request, context, authenticated: true) { request, context, _ throws(Problem) in
                let body = try await jsonBody(request, schema: Schemas.customerUpdate)
                return Call(
                    subject: CustomersSubject.update,
                    payload: body.adding("customer_id", .string(try Self.customerID(context))))
            }
        }
        router.patch("/customers/:id", use: updateCustomer)
        router.patch("/customers/update/:id", use: updateCustomer)
        let deleteCustomer: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await handle(request, context, authenticated: true) { _, context, _ throws(Problem) in
                Call(
                    subject: CustomersSubject.delete,
                    payload: .object([("customer_id", .string(try Self.customerID(context)))]))
            }
        }
        router.delete("/customers/:id", use: deleteCustomer)
        router.delete("/customers/delete/:id", use: deleteCustomer)

        // Products
        let listProducts: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await handle(request, context, authenticated: true) { request, _, _ throws(Problem) in
                Call(subject: ProductsSubject.list, payload: try Self.query(request, .products))
            }
        }
        router.get("/products", use: listProducts)
        router.get("/products/findAll", use: listProducts)
        let createProduct: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await handle(request, context, authenticated: true) { request, _, _ throws(Problem) in
                Call(
                    subject: ProductsSubject.create,
                    body: try await jsonBody(request, schema: Schemas.productCreate),
                    successStatus: .created)
            }
        }
        router.post("/products", use: createProduct)
        router.post("/products/create", use: createProduct)
        router.get("/products/:id") { request, context in
            await handle(request, context, authenticated: true) { _, context, _ throws(Problem) in
                Call(
                    subject: ProductsSubject.get,
                    payload: .object([("product_id", .number(String(try Self.numericID(context))))]))
            }
        }
        router.patch("/products/:id") { request, context in
            await handle(request, context, authenticated: true) { request, context, _ throws(Problem) in
                let body = try await jsonBody(request, schema: Schemas.productUpdate)
                return Call(
                    subject: ProductsSubject.update,
                    payload: body.adding("product_id", .number(String(try Self.numericID(context)))))
            }
        }
        router.delete("/products/:id") { request, context in
            await handle(request, context, authenticated: true) { _, context, _ throws(Problem) in
                Call(
                    subject: ProductsSubject.delete,
                    payload: .object([("product_id", .number(String(try Self.numericID(context))))]))
            }
        }
        router.get("/categories") { request, context in
            await handle(request, context, authenticated: true) { request, _, _ throws(Problem) in
                Call(subject: ProductsSubject.listCategories, payload: try Self.query(request, .none))
            }
        }
        router.get("/categories/:id") { request, context in
            await handle(request, context, authenticated: true) { _, context, _ throws(Problem) in
                Call(
                    subject: ProductsSubject.getCategory,
                    payload: .object([("category_id", .number(String(try Self.numericID(context))))]))
            }
        }
        router.get("/suppliers") { request, context in
            await handle(request, context, authenticated: true) { request, _, _ throws(Problem) in
                Call(subject: ProductsSubject.listSuppliers, payload: try Self.query(request, .none))
            }
        }
        router.get("/suppliers/:id") { request, context in
            await handle(request, context, authenticated: true) { _, context, _ throws(Problem) in
                Call(
                    subject: ProductsSubject.getSupplier,
                    payload: .object([("supplier_id", .number(String(try Self.numericID(context))))]))
            }
        }

        // Operations
        router.get("/health") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/ready") { _, _ in await readiness() }
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
    }

    /// Ready when NATS is connected and every service answers a services-API ping.
    func readiness() async -> Response {
        var missing: [String] = []
        if nats.status != .connected { missing.append("nats") }
        for service in ["auth", "customers", "products"] where nats.status == .connected {
            do {
                _ = try await nats.request([UInt8](), to: "$SRV.PING.\(service)", timeout: .seconds(1))
            } catch {
                missing.append(service)
            }
        }
        let body =
            missing.isEmpty
            ? #"{"ready":true}"# : #"{"ready":false,"missing":["\#(missing.joined(separator: "\",\""))"]}"#
        return Response(
            status: missing.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
