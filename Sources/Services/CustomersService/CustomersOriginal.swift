import Contracts
import NATSWire
import PostgresTables
import ServiceRuntime

/// The answers the original NestJS gateway reads (``OriginalPayloads``), built on the native
/// handlers: same rules, same statements, the original's shapes. Its customers service
/// answered a failed write with `{"error": text}` and an unknown id with `null`.
extension CustomersHandlers {
    func originalList(_ data: JSONValue) async throws -> [UInt8] {
        var out: [UInt8] = []
        try await repository.all().writeAll(into: &out)
        return out
    }

    func originalGet(_ data: JSONValue) async throws -> [UInt8] {
        guard let id = Self.originalKey(data) else { return JSONOutput.null }
        return try await OriginalAnswer.nullWhenNotFound { try await get(Self.keyed(id)) }
    }

    func originalCreate(_ data: JSONValue, origin: WriteOrigin) async throws -> [UInt8] {
        guard case .object(let members) = data else {
            return OriginalPayloads.errorAnswer("body: must be a JSON object")
        }
        // Northwind requires a company name the original gateway never sends.
        let request = JSONObject(members).defaulting("company_name", to: .string(""))
        return try await OriginalAnswer.errorOnFailure {
            try await create(JSONValue.object(request.members).json, origin: origin)
        }
    }

    func originalUpdate(_ data: JSONValue, origin: WriteOrigin) async throws -> [UInt8] {
        guard let wanted = OriginalPayloads.CustomerUpdate(data), case .object(let changes) = wanted.customer
        else {
            return OriginalPayloads.errorAnswer(#"body: must be {"customer": {...}, "id": "<customer id>"}"#)
        }
        let request = JSONValue.object(
            [("customer_id", .string(wanted.id))] + changes.filter { $0.key != "customer_id" })
        return try await OriginalAnswer.errorOnFailure {
            try await update(request.json, origin: origin)
        }
    }

    /// The original gateway sends `""` here (it loses the id); a bare id or `{customer_id}`
    /// is honoured, so that a corrected gateway works.
    func originalDelete(_ data: JSONValue, origin: WriteOrigin) async throws -> [UInt8] {
        guard let id = Self.originalKey(data) else {
            return OriginalPayloads.errorAnswer("the customer id is missing")
        }
        return try await OriginalAnswer.errorOnFailure {
            try await delete(Self.keyed(id), origin: origin)
        }
    }

    private static func originalKey(_ data: JSONValue) -> String? {
        OriginalPayloads.key(data) ?? data["customer_id"].flatMap(OriginalPayloads.key)
    }

    private static func keyed(_ id: String) -> [UInt8] {
        JSONValue.object([("customer_id", .string(id))]).json
    }
}
