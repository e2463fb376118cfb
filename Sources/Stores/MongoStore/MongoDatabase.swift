import BlockingCalls
import CMongoc
import Synchronization
import Tracing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A failed MongoDB operation.
public struct MongoError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A unique index refused the write (E11000).
        case duplicateKey
        /// The server could not be reached or selected in time.
        case unavailable
        /// Anything else the driver or server reported.
        case failed
    }

    public let kind: Kind
    public let code: UInt32
    public let message: String

    public var description: String { "MongoDB \(kind) (\(code)): \(message)" }

    init(_ error: bson_error_t) {
        var copy = error
        let message = withUnsafeBytes(of: &copy.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        self.code = error.code
        self.message = message
        if error.code == 11000 || error.code == 11001 {
            kind = .duplicateKey
        } else if [
            MONGOC_ERROR_STREAM, MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_CLIENT, MONGOC_ERROR_POOL,
        ]
        .contains(where: { $0.rawValue == error.domain }) {
            kind = .unavailable
        } else {
            kind = .failed
        }
    }

    init(kind: Kind, message: String) {
        self.kind = kind
        self.code = 0
        self.message = message
    }
}

/// A MongoDB database through libmongoc's thread-safe client pool. Every driver call runs
/// on a ``BlockingPool`` thread, never on the cooperative pool; a client is taken from the
/// pool for one call and given back right after.
public final class MongoDatabase: Sendable {
    /// Pointers owned by this object; libmongoc's client pool is thread-safe and a popped
    /// client is used by one thread at a time.
    private struct Handles: @unchecked Sendable {
        let uri: OpaquePointer
        let pool: OpaquePointer
    }

    private let handles: Handles
    /// Writes wait for the server's journal (the default; a URL may choose otherwise).
    public let journaled: Bool
    public let name: String
    let executor: BlockingPool
    let spansIn: (@Sendable () -> (any Tracer)?)?

    private static let initialize: Void = {
        mongoc_init()
    }()

    /// Opens a pool for `url` (`mongodb://host:port/database?...`). The database comes from
    /// the URL, else `defaultDatabase`. Server selection fails after 2 s unless the URL says
    /// otherwise, so a request fails fast while the server is down.
    ///
    /// With `spansIn`, an operation run while it gives a tracer (inside a recorded trace) is a
    /// client span started in the current `ServiceContext` (swift-distributed-tracing; the
    /// tracer finds the parent there or where its runtime bound it): the operation and
    /// collection, never the documents. `nil`: no spans, no cost.
    public init(
        url: String, defaultDatabase: String, maxConnections: Int32 = 16, executor: BlockingPool,
        spansIn: (@Sendable () -> (any Tracer)?)? = nil
    )
        throws
    {
        self.spansIn = spansIn
        _ = Self.initialize
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(url, &error) else {
            throw MongoError(kind: .failed, message: "invalid MONGO_URL: \(MongoError(error).message)")
        }
        if !url.lowercased().contains("serverselectiontimeoutms") {
            mongoc_uri_set_option_as_int32(uri, "serverselectiontimeoutms", 2000)
        }
        if !url.lowercased().contains("connecttimeoutms") {
            mongoc_uri_set_option_as_int32(uri, "connecttimeoutms", 2000)
        }
        // An acknowledged write must survive a crash of the server: wait for the journal
        // (j: true) unless the URL chose a write concern itself.
        let lowered = url.lowercased()
        journaled = !lowered.contains("journal=") && !lowered.contains("w=")
        if journaled, let concern = mongoc_write_concern_new() {
            mongoc_write_concern_set_journal(concern, true)
            mongoc_uri_set_write_concern(uri, concern)
            mongoc_write_concern_destroy(concern)
        }
        mongoc_uri_set_appname(uri, "natswire-services")
        guard let pool = mongoc_client_pool_new(uri) else {
            mongoc_uri_destroy(uri)
            throw MongoError(kind: .failed, message: "cannot create a client pool for \(url)")
        }
        mongoc_client_pool_max_size(pool, UInt32(max(1, maxConnections)))
        // MONGOC_ERROR_API_VERSION_2: server errors keep their own codes (11000, ...).
        mongoc_client_pool_set_error_api(pool, 2)
        handles = Handles(uri: uri, pool: pool)
        if let fromURL = mongoc_uri_get_database(uri).map({ String(cString: $0) }), !fromURL.isEmpty {
            name = fromURL
        } else {
            name = defaultDatabase
        }
        self.executor = executor
    }

    deinit {
        mongoc_client_pool_destroy(handles.pool)
        mongoc_uri_destroy(handles.uri)
    }

    public func collection(_ name: String) -> MongoCollection { MongoCollection(database: self, name: name) }

    /// Round trip to the server (`ping`).
    public func ping() async throws {
        _ = try await runCommand(["ping": .int(1)], isRead: true)
    }

    /// Runs a database command and returns its reply.
    public func runCommand(_ command: MongoDocument, isRead: Bool = false) async throws -> MongoDocument {
        // A command's name is its first key (`findAndModify`, `ping`); its value the collection.
        let operation = command.fields.first?.key ?? "command"
        var collection: String?
        if case .string(let name)? = command.fields.first?.value { collection = name }
        return try await recorded(operation, operation: operation, collection: collection) {
            try await runUntraced(command, isRead: isRead)
        }
    }

    /// `body` as a client span of the current task's trace when that trace is recorded (the
    /// operation and collection, never the documents); as it is otherwise, e.g. background
    /// work.
    func recorded<T>(
        _ spanName: @autoclosure () -> String, operation: String, collection: String?,
        _ body: () async throws -> T
    ) async throws -> T {
        guard let spansIn, let tracer = spansIn() else {
            return try await body()
        }
        var attributes: SpanAttributes = [
            "db.system.name": "mongodb", "db.operation.name": .string(operation),
            "db.namespace": .string(name),
        ]
        if let collection { attributes["db.collection.name"] = collection }
        // Started and ended, not `withSpan`: nothing inside reads the span's context, and
        // binding it costs a task-local push and a `ServiceContext` with the span in it.
        let span = tracer.startAnySpan(
            spanName(), context: ServiceContext.current ?? .topLevel, ofKind: .client)
        span.attributes = attributes
        defer { span.end() }
        do {
            return try await body()
        } catch {
            span.recordError(error)
            throw error
        }
    }

    private func runUntraced(_ command: MongoDocument, isRead: Bool) async throws -> MongoDocument {
        try await withClient(isRead: isRead) { client in
            let database = mongoc_client_get_database(client, self.name)
            defer { mongoc_database_destroy(database) }
            return try BSON.withDocument(command) { bson in
                let reply = BSON.ReplyBuffer()
                var error = bson_error_t()
                guard mongoc_database_command_simple(database, bson, nil, reply.pointer, &error) else {
                    throw MongoError(error)
                }
                return try BSON.document(reply.pointer)
            }
        }
    }

    /// Operations that found the server unreachable (the driver connects on demand), for
    /// metrics.
    public var unavailableCount: UInt64 { unavailableErrors.count.load(ordering: .relaxed) }
    private let unavailableErrors = Tally()

    /// A count shared with the blocking threads.
    private final class Tally: Sendable {
        let count = Atomic<UInt64>(0)
    }

    /// The threads the driver's calls run on.
    public var calls: BlockingPool { executor }

    /// Runs `body` with a pooled client on a blocking thread. A pooled connection the
    /// server (or something between) closed while idle fails on its next use; such an
    /// operation is tried once more on a fresh connection when that is safe: always for a
    /// read, and for a write only when it could not even be sent.
    func withClient<T: Sendable>(
        isRead: Bool = false, _ body: @escaping @Sendable (OpaquePointer) throws -> T
    )
        async throws -> T
    {
        let handles = self.handles
        let unavailable = unavailableErrors
        return try await executor.run {
            var attempt = 0
            while true {
                guard let client = mongoc_client_pool_pop(handles.pool) else {
                    throw MongoError(kind: .unavailable, message: "no client available")
                }
                defer { mongoc_client_pool_push(handles.pool, client) }
                do {
                    return try body(client)
                } catch let error as MongoError
                    where attempt == 0 && error.kind == .unavailable
                    && (isRead || error.message.contains("socket delivery"))
                {
                    unavailable.count.add(1, ordering: .relaxed)
                    attempt += 1
                } catch let error as MongoError where error.kind == .unavailable {
                    unavailable.count.add(1, ordering: .relaxed)
                    throw error
                }
            }
        }
    }
}

/// Converting between ``MongoDocument`` and libbson.
enum BSON {
    /// Room for a `bson_t` that libmongoc initializes as a reply (it is 128 bytes,
    /// 128-aligned, and opaque to Swift); destroyed and freed on deinit.
    final class ReplyBuffer {
        let pointer: OpaquePointer
        private let raw: UnsafeMutableRawPointer

        init() {
            raw = .allocate(byteCount: 128, alignment: 128)
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
            pointer = OpaquePointer(raw)
            bson_init(pointer)  // a valid empty document even if the driver never fills it
        }

        deinit {
            bson_destroy(pointer)
            raw.deallocate()
        }
    }

    static func withDocument<T>(_ document: MongoDocument, _ body: (OpaquePointer) throws -> T) throws -> T {
        var error = bson_error_t()
        let json = document.json
        guard let bson = bson_new_from_json(json, -1, &error) else {
            throw MongoError(kind: .failed, message: "cannot encode document: \(MongoError(error).message)")
        }
        defer { bson_destroy(bson) }
        return try body(bson)
    }

    static func withOptionalDocument<T>(_ document: MongoDocument?, _ body: (OpaquePointer?) throws -> T)
        throws -> T
    {
        guard let document else { return try body(nil) }
        return try withDocument(document) { try body($0) }
    }

    static func document(_ bson: OpaquePointer) throws -> MongoDocument {
        var length = 0
        guard let text = bson_as_relaxed_extended_json(bson, &length) else {
            throw MongoError(kind: .failed, message: "cannot decode a document")
        }
        defer { bson_free(text) }
        let data = Data(bytes: text, count: length)
        let json = try JSONDecoder().decode(ExtendedJSON.self, from: data)
        guard case .document(let document) = MongoValue(json) else {
            throw MongoError(kind: .failed, message: "reply is not a document")
        }
        return document
    }
}
