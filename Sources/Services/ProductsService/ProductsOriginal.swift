import Contracts
import NATSWire
import PostgresTables
import ServiceRuntime

/// The answers the original NestJS gateway reads (``OriginalPayloads``), built on the native
/// handlers. The original products service (NestJS and TypeORM) answered an unknown id with
/// `null`, an update with TypeORM's update result, and threw on bad input, which reaches its
/// gateway as the envelope's `err`.
extension ProductsHandlers {
    /// `{page, limit}` as numbers or text; anything else is the first page.
    func originalList(_ data: JSONValue) async throws -> [UInt8] {
        guard case .object = data else { return try await list([]) }
        return try await list(data.json)
    }

    func originalGet(_ data: JSONValue) async throws -> [UInt8] {
        guard let id = OriginalPayloads.key(data) ?? data["product_id"].flatMap(OriginalPayloads.key) else {
            return JSONOutput.null
        }
        return try await OriginalAnswer.nullWhenNotFound {
            try await get(JSONValue.object([("product_id", .string(id))]).json)
        }
    }

    func originalUpdate(_ data: JSONValue, origin: WriteOrigin) async throws -> [UInt8] {
        guard let update = OriginalPayloads.ProductUpdate(data), case .object(let changes) = update.changes
        else {
            throw ServiceError(
                code: 400, message: #"body: must be {"id": <product id>, "updateProductDto": {...}}"#)
        }
        let request = JSONValue.object(
            [("product_id", .number(String(update.id)))] + changes.filter { $0.key != "product_id" })
        do {
            _ = try await self.update(request.json, origin: origin)
            return OriginalPayloads.UpdateResult(affected: 1).json
        } catch let error as ServiceError where error.code == 404 {
            return OriginalPayloads.UpdateResult(affected: 0).json
        }
    }
}
