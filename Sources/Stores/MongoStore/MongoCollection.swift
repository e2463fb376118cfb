import CMongoc
import Tracing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One collection. Filters and updates are ``MongoDocument`` values built in code, so
/// user input only ever appears as values.
public struct MongoCollection: Sendable {
    let database: MongoDatabase
    public let name: String

    public func insertOne(_ document: MongoDocument) async throws {
        try await withCollection("insert") { collection in
            try BSON.withDocument(document) { bson in
                var error = bson_error_t()
                guard mongoc_collection_insert_one(collection, bson, nil, nil, &error) else {
                    throw MongoError(error)
                }
            }
        }
    }

    public func findOne(_ filter: MongoDocument, sort: MongoDocument? = nil) async throws -> MongoDocument? {
        try await find(filter, sort: sort, limit: 1).first
    }

    public func find(_ filter: MongoDocument, sort: MongoDocument? = nil, limit: Int? = nil) async throws
        -> [MongoDocument]
    {
        var options = MongoDocument()
        if let sort { options["sort"] = .document(sort) }
        if let limit { options["limit"] = .int(Int64(limit)) }
        let findOptions = options
        return try await withCollection("find", isRead: true) { collection in
            try BSON.withDocument(filter) { filterBSON in
                try BSON.withDocument(findOptions) { optionsBSON in
                    guard
                        let cursor = mongoc_collection_find_with_opts(
                            collection, filterBSON, optionsBSON, nil)
                    else {
                        throw MongoError(kind: .failed, message: "find failed")
                    }
                    defer { mongoc_cursor_destroy(cursor) }
                    var out: [MongoDocument] = []
                    var current: OpaquePointer?
                    while mongoc_cursor_next(cursor, &current) {
                        if let current { out.append(try BSON.document(current)) }
                    }
                    var error = bson_error_t()
                    if mongoc_cursor_error(cursor, &error) { throw MongoError(error) }
                    return out
                }
            }
        }
    }

    /// Updates the first match; returns how many matched (0 or 1).
    @discardableResult
    public func updateOne(_ filter: MongoDocument, _ update: MongoDocument, upsert: Bool = false) async throws
        -> Int
    {
        let options: MongoDocument = ["upsert": .bool(upsert)]
        let reply = try await withCollection("update") { collection in
            try BSON.withDocument(filter) { filterBSON in
                try BSON.withDocument(update) { updateBSON in
                    try BSON.withDocument(options) { optionsBSON in
                        let reply = BSON.ReplyBuffer()
                        var error = bson_error_t()
                        guard
                            mongoc_collection_update_one(
                                collection, filterBSON, updateBSON, optionsBSON, reply.pointer, &error)
                        else { throw MongoError(error) }
                        return try BSON.document(reply.pointer)
                    }
                }
            }
        }
        return Int(reply["matchedCount"]?.int ?? 0) + Int(reply["upsertedCount"]?.int ?? 0)
    }

    /// Updates every match; returns how many matched.
    @discardableResult
    public func updateMany(_ filter: MongoDocument, _ update: MongoDocument) async throws -> Int {
        let reply = try await withCollection("update") { collection in
            try BSON.withDocument(filter) { filterBSON in
                try BSON.withDocument(update) { updateBSON in
                    let reply = BSON.ReplyBuffer()
                    var error = bson_error_t()
                    guard
                        mongoc_collection_update_many(
                            collection, filterBSON, updateBSON, nil, reply.pointer, &error)
                    else { throw MongoError(error) }
                    return try BSON.document(reply.pointer)
                }
            }
        }
        return Int(reply["matchedCount"]?.int ?? 0)
    }

    /// Atomically updates the first match and returns it as it is after (or before) the
    /// update; `nil` when nothing matched and `upsert` is off.
    public func findOneAndUpdate(
        _ filter: MongoDocument, _ update: MongoDocument, upsert: Bool = false, returnNew: Bool = true,
        sort: MongoDocument? = nil
    ) async throws -> MongoDocument? {
        var command: MongoDocument = [
            "findAndModify": .string(name), "query": .document(filter), "update": .document(update),
            "new": .bool(returnNew), "upsert": .bool(upsert),
        ]
        if let sort { command["sort"] = .document(sort) }
        // A plain command does not take the URL's write concern: say it.
        if database.journaled { command["writeConcern"] = .document(["j": .bool(true)]) }
        let reply = try await database.runCommand(command)
        return reply["value"]?.document
    }

    /// Deletes every match; returns how many.
    @discardableResult
    public func deleteMany(_ filter: MongoDocument) async throws -> Int {
        let reply = try await withCollection("delete") { collection in
            try BSON.withDocument(filter) { filterBSON in
                let reply = BSON.ReplyBuffer()
                var error = bson_error_t()
                guard mongoc_collection_delete_many(collection, filterBSON, nil, reply.pointer, &error) else {
                    throw MongoError(error)
                }
                return try BSON.document(reply.pointer)
            }
        }
        return Int(reply["deletedCount"]?.int ?? 0)
    }

    /// Creates an index if it is not there (same name and keys: nothing changes). A `sparse`
    /// index leaves out documents without the field (so a unique one allows many of them).
    public func createIndex(
        name indexName: String, keys: MongoDocument, unique: Bool = false, sparse: Bool = false
    )
        async throws
    {
        var index: MongoDocument = [
            "key": .document(keys), "name": .string(indexName), "unique": .bool(unique),
        ]
        if sparse { index["sparse"] = .bool(true) }
        let command: MongoDocument = ["createIndexes": .string(name), "indexes": .array([.document(index)])]
        _ = try await database.runCommand(command)
    }

    private func withCollection<T: Sendable>(
        _ operation: String, isRead: Bool = false, _ body: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        try await database.recorded("\(operation) \(name)", operation: operation, collection: name) {
            try await onCollection(isRead: isRead, body)
        }
    }

    private func onCollection<T: Sendable>(
        isRead: Bool, _ body: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        let databaseName = database.name
        let collectionName = name
        return try await database.withClient(isRead: isRead) { client in
            guard let collection = mongoc_client_get_collection(client, databaseName, collectionName) else {
                throw MongoError(kind: .failed, message: "no collection \(collectionName)")
            }
            defer { mongoc_collection_destroy(collection) }
            return try body(collection)
        }
    }
}
