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

/// Request handling: validate, call the repository, shape the reply.
struct CustomersHandlers: Sendable {
    let repository: CustomersRepository
    private var schema: TableSchema { CustomersRepository.schema }

    func list(_ payload: [UInt8]) async throws -> [UInt8] {
        let request = try JSONBody.list(payload, ListOptions.customers)
        let (rows, total) = try await repository.list(
            search: request.search, orderBy: orderBy(request, key: "customer_id"), page: request)
        return JSONBody.page(rows, total: total, page: request)
    }

    func get(_ payload: [UInt8]) async throws -> [UInt8] {
        let id = try customerID(try JSONBody.object(payload))
        guard let row = try await repository.find(id).first else { throw notFound(id) }
        return row
    }

    func create(_ payload: [UInt8], origin: WriteOrigin) async throws -> [UInt8] {
        let request = try JSONBody.object(payload)
        var errors = FieldErrors()
        let values = schema.parameters(
            from: request, allowed: Records.customer.writableOnCreate,
            required: Records.customer.requiredOnCreate, errors: &errors)
        try errors.throwIfAny()
        return try await repository.keys.once(origin.idempotency, reread: repository.current) {
            do {
                guard let row = try await repository.insert(values, origin: origin).first else {
                    throw ServiceError(code: 500, message: "insert returned nothing")
                }
                return row
            } catch let error as PostgresError
                where error.kind == .uniqueViolation && !repository.keys.isTwin(error)
            {
                throw ServiceError(
                    code: 409,
                    message: "customer_id \(request["customer_id"]?.string ?? "") already exists")
            }
        }
    }

    func update(_ payload: [UInt8], origin: WriteOrigin) async throws -> [UInt8] {
        let request = try JSONBody.object(payload)
        let id = try customerID(request)
        let changes = request.removing("customer_id")
        var errors = FieldErrors()
        let values = schema.parameters(
            from: changes, allowed: Records.customer.writableOnUpdate, required: [], errors: &errors)
        try errors.throwIfAny()
        return try await repository.keys.once(origin.idempotency, reread: repository.current) {
            guard let row = try await repository.update(id, values, origin: origin).first else {
                throw notFound(id)
            }
            return row
        }
    }

    func delete(_ payload: [UInt8], origin: WriteOrigin) async throws -> [UInt8] {
        let id = try customerID(try JSONBody.object(payload))
        do {
            guard try await repository.delete(id, origin: origin) > 0 else { throw notFound(id) }
            var out = Array(#"{"customer_id":"#.utf8)
            JSONOutput.string(id, into: &out)
            out.append(contentsOf: #","deleted":true}"#.utf8)
            return out
        } catch let error as PostgresError where error.kind == .foreignKeyViolation {
            throw ServiceError(code: 409, message: "customer \(id) has orders and cannot be deleted")
        }
    }

    private func customerID(_ request: JSONObject) throws -> String {
        guard let id = request["customer_id"]?.string, FieldRule.isCustomerID(id) else {
            throw ServiceError(code: 400, message: "customer_id: must be 5 letters or digits")
        }
        return id
    }

    private func notFound(_ id: String) -> ServiceError {
        ServiceError(code: 404, message: "customer \(id) not found")
    }

}
