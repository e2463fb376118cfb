import DataServices
import Foundation
import NATSWire
import PostgresStore
import ServiceRuntime

/// Request handling: validate, call the repository, shape the reply.
struct CustomersHandlers: Sendable {
    let repository: CustomersRepository
    private var schema: TableSchema { CustomersRepository.schema }

    func list(_ payload: [UInt8]) async throws -> [UInt8] {
        let request = try JSONBody.object(payload)
        var errors = FieldErrors()
        let page = Page(request, errors: &errors)
        let order = orderBy(
            request, allowed: CustomersRepository.sortable, default: "customer_id", errors: &errors)
        let search = request["search"]
        if let search, !(search is String) { errors.add("search", "must be a string") }
        for key in request.keys where !["page", "limit", "search", "sort", "order"].contains(key) {
            errors.add(key, "is not a list option")
        }
        try errors.throwIfAny()
        let (rows, total) = try await repository.list(
            search: (search as? String).flatMap { $0.isEmpty ? nil : $0 }, orderBy: order, page: page)
        return try JSONBody.encode(page.envelope(rows.map(schema.json), total: total))
    }

    func get(_ payload: [UInt8]) async throws -> [UInt8] {
        let id = try customerID(try JSONBody.object(payload))
        guard let row = try await repository.find(id) else { throw notFound(id) }
        return try JSONBody.encode(schema.json(row))
    }

    func create(_ payload: [UInt8]) async throws -> [UInt8] {
        let request = try JSONBody.object(payload)
        var errors = FieldErrors()
        if let id = request["customer_id"] as? String, !Self.isValidID(id) {
            errors.add("customer_id", "must be 5 letters or digits")
        }
        let values = schema.parameters(
            from: request, allowed: Set(schema.columns.map(\.name)), requireNonNullable: true, errors: &errors
        )
        try errors.throwIfAny()
        do {
            guard let row = try await repository.insert(values) else {
                throw ServiceError(code: 500, message: "insert returned nothing")
            }
            return try JSONBody.encode(schema.json(row))
        } catch let error as PostgresError where error.kind == .uniqueViolation {
            throw ServiceError(
                code: 409,
                message: "customer_id \(request["customer_id"] as? String ?? "") already exists")
        }
    }

    func update(_ payload: [UInt8]) async throws -> [UInt8] {
        let request = try JSONBody.object(payload)
        let id = try customerID(request)
        var changes = request
        changes["customer_id"] = nil
        var errors = FieldErrors()
        let updatable = Set(schema.columns.map(\.name)).subtracting(["customer_id"])
        let values = schema.parameters(
            from: changes, allowed: updatable, requireNonNullable: false, errors: &errors)
        try errors.throwIfAny()
        guard let row = try await repository.update(id, values) else { throw notFound(id) }
        return try JSONBody.encode(schema.json(row))
    }

    func delete(_ payload: [UInt8]) async throws -> [UInt8] {
        let id = try customerID(try JSONBody.object(payload))
        do {
            guard try await repository.delete(id) > 0 else { throw notFound(id) }
            return try JSONBody.encode(["deleted": true, "customer_id": id])
        } catch let error as PostgresError where error.kind == .foreignKeyViolation {
            throw ServiceError(code: 409, message: "customer \(id) has orders and cannot be deleted")
        }
    }

    private func customerID(_ request: [String: Any]) throws -> String {
        guard let id = request["customer_id"] as? String, Self.isValidID(id) else {
            throw ServiceError(code: 400, message: "customer_id: must be 5 letters or digits")
        }
        return id
    }

    private func notFound(_ id: String) -> ServiceError {
        ServiceError(code: 404, message: "customer \(id) not found")
    }

    static func isValidID(_ id: String) -> Bool {
        id.count == 5 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
