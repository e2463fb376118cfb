import Contracts
import NATSWire
import PostgresStore
import PostgresTables
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Request handling for products, categories and suppliers.
struct ProductsHandlers: Sendable {
    let repository: ProductsRepository
    private var schema: TableSchema { ProductsRepository.products }

    func list(_ payload: [UInt8]) async throws -> [UInt8] {
        let request = try JSONBody.list(payload, ListOptions.products)
        let filter = ProductsRepository.ListFilter(
            categoryID: request.filters["category_id"]?.integer.map(String.init),
            supplierID: request.filters["supplier_id"]?.integer.map(String.init),
            discontinued: request.filters["discontinued"]?.bool.map { $0 ? "1" : "0" },
            search: request.search)
        let (rows, total) = try await repository.list(
            filter, orderBy: orderBy(request, key: "product_id"), page: request)
        return JSONBody.page(rows, total: total, page: request)
    }

    func get(_ payload: [UInt8]) async throws -> [UInt8] {
        let id = try productID(try JSONBody.object(payload))
        guard let row = try await repository.find(id).first else { throw notFound(id) }
        return row
    }

    func create(_ payload: [UInt8], origin: WriteOrigin) async throws -> [UInt8] {
        let request = try JSONBody.object(payload).defaulting("discontinued", to: .number("0"))
        var errors = FieldErrors()
        let values = schema.parameters(
            from: request, allowed: Records.product.writableOnCreate,
            required: Records.product.requiredOnCreate,
            errors: &errors)
        try errors.throwIfAny()
        try await checkReferences(values)
        return try await repository.keys.once(origin.idempotency, reread: repository.current) {
            try await insertMappingReferences(values, origin: origin)
        }
    }

    func update(_ payload: [UInt8], origin: WriteOrigin) async throws -> [UInt8] {
        let body = try JSONBody.object(payload)
        let id = try productID(body)
        let request = body.removing("product_id")
        var errors = FieldErrors()
        let values = schema.parameters(
            from: request, allowed: Records.product.writableOnUpdate, required: [], errors: &errors)
        try errors.throwIfAny()
        try await checkReferences(values)
        return try await repository.keys.once(origin.idempotency, reread: repository.current) {
            do {
                guard try await repository.update(id, values, origin: origin) else { throw notFound(id) }
            } catch let error as PostgresError where error.kind == .foreignKeyViolation {
                throw referenceError(error)
            }
            guard let row = try await repository.find(id).first else { throw notFound(id) }
            return row
        }
    }

    func delete(_ payload: [UInt8], origin: WriteOrigin) async throws -> [UInt8] {
        let id = try productID(try JSONBody.object(payload))
        do {
            guard try await repository.delete(id, origin: origin) > 0 else { throw notFound(id) }
            return Array(#"{"deleted":true,"product_id":\#(id)}"#.utf8)
        } catch let error as PostgresError where error.kind == .foreignKeyViolation {
            throw ServiceError(
                code: 409, message: "product \(id) appears in orders and cannot be deleted")
        }
    }

    func listCategories(_ payload: [UInt8]) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await repository.listAll(ProductsRepository.categories, key: "category_id").writeAll(into: &out)
        return out
    }

    func getCategory(_ payload: [UInt8]) async throws -> [UInt8] {
        try await getOne(payload, ProductsRepository.categories, key: "category_id", noun: "category")
    }

    func listSuppliers(_ payload: [UInt8]) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await repository.listAll(ProductsRepository.suppliers, key: "supplier_id").writeAll(into: &out)
        return out
    }

    func getSupplier(_ payload: [UInt8]) async throws -> [UInt8] {
        try await getOne(payload, ProductsRepository.suppliers, key: "supplier_id", noun: "supplier")
    }

    // MARK: - Helpers

    private func getOne(_ payload: [UInt8], _ table: TableSchema, key: String, noun: String) async throws
        -> [UInt8]
    {
        let request = try JSONBody.object(payload)
        guard let id = Self.integerID(request[key]) else {
            throw ServiceError(code: 400, message: "\(key): must be an integer id")
        }
        guard let row = try await repository.findOne(table, key: key, id: id).first else {
            throw ServiceError(code: 404, message: "\(noun) \(id) not found")
        }
        return row
    }

    /// Unknown category or supplier: a well-formed request that conflicts with what the
    /// database holds, so a 409 that names the field.
    private func checkReferences(_ values: [(column: Column, value: String?)]) async throws {
        let category = values.first { $0.column.name == "category_id" }?.value
        let supplier = values.first { $0.column.name == "supplier_id" }?.value
        let missing = try await repository.missingReferences(categoryID: category, supplierID: supplier)
        guard !missing.isEmpty else { return }
        throw ServiceError(
            code: 409, message: missing.map { "\($0): does not exist" }.joined(separator: "; "))
    }

    private func insertMappingReferences(_ values: [(column: Column, value: String?)], origin: WriteOrigin)
        async throws -> [UInt8]
    {
        do {
            guard let row = try await repository.insert(values, origin: origin).first else {
                throw ServiceError(code: 500, message: "insert returned no row")
            }
            return row
        } catch let error as PostgresError where error.kind == .foreignKeyViolation {
            throw referenceError(error)
        }
    }

    private func referenceError(_ error: PostgresError) -> ServiceError {
        let field = error.constraint?.contains("supplier") == true ? "supplier_id" : "category_id"
        return ServiceError(code: 409, message: "\(field): does not exist")
    }

    private func productID(_ request: JSONObject) throws -> Int {
        guard let id = Self.integerID(request["product_id"]), id >= 1 else {
            throw ServiceError(code: 400, message: "product_id: must be a positive integer")
        }
        return id
    }

    private func notFound(_ id: Int) -> ServiceError {
        ServiceError(code: 404, message: "product \(id) not found")
    }

    static func integerID(_ value: JSONValue?) -> Int? {
        let id = value?.integer ?? value?.string.flatMap { Int($0) }
        guard let id, (0...32767).contains(id) else { return nil }
        return id
    }
}
