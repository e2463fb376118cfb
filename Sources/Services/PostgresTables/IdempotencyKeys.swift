import Contracts
import NATSWire
import PostgresStore
import ServiceRuntime

/// An `Idempotency-Key` with the request it came with: the operation (endpoint) and the
/// request's bytes, which a second use of the key must repeat exactly.
public struct IdempotencyKey: Sendable, Equatable {
    public var key: String
    public var operation: String
    public var request: String

    /// `request` is kept in canonical form (members in key order): the same request sent
    /// again by a client that serialises its members in another order is still the same.
    public init(key: String, operation: String, request: [UInt8]) {
        self.key = key
        self.operation = operation
        let canonical = (try? JSONValue.parse(request))?.canonical.json ?? request
        self.request = String(decoding: canonical, as: UTF8.self)
    }

    /// The key of a request, if it carries a valid one (``IdempotencyRule``; the gateway
    /// refuses any other with a 400).
    public init?(_ context: HandlerContext, request: [UInt8]) {
        guard let key = context.idempotencyKey else { return nil }
        self.init(key: key, operation: context.endpointName, request: request)
    }
}

/// Keys of changes already made, in the service's own database: the key is stored by the
/// statement that makes the change (``EventOutbox/statement(_:alias:key:event:select:parameters:origin:prepared:)``),
/// and the answer once it is known. A request sent again with its key gets the first answer
/// and changes nothing; the key with another request is refused (422). Keys are kept a day.
public struct IdempotencyKeys: Sendable {
    public let service: String
    let database: PostgresPool

    public init(service: String, database: PostgresPool) {
        self.service = service
        self.database = database
    }

    static func table(_ service: String) -> String { "\(service)_idempotency" }
    var table: String { Self.table(service) }

    /// Creates the table if it is missing (idempotent).
    public func migrate() async throws {
        try await database.execute(
            """
            DO $$
            BEGIN
              PERFORM pg_advisory_xact_lock(7239003);
              CREATE TABLE IF NOT EXISTS \(table) (
                key text PRIMARY KEY,
                operation text NOT NULL,
                request text NOT NULL,
                aggregate_id text NOT NULL,
                response text,
                created_at timestamptz NOT NULL DEFAULT now());
            END $$
            """)
    }

    /// What a key's first use answered, or `nil` if the key is new. `reread` gives the
    /// aggregate as it is now, for a first use whose answer was not stored (the service
    /// stopped between the change and storing it, or that request is still finishing).
    public func replay(_ key: IdempotencyKey, reread: (String) async throws -> [UInt8]?) async throws
        -> [UInt8]?
    {
        let found = try await database.run(
            "SELECT operation, request, aggregate_id, response FROM \(table) WHERE key = $1", [key.key],
            prepared: "\(table) find")
        guard found.rowCount > 0 else { return nil }
        guard found.string(0, 0) == key.operation, found.string(0, 1) == key.request else {
            throw ServiceError(
                code: 422, message: "Idempotency-Key was already used with a different request")
        }
        if let response = found.bytes(0, 3) { return Array(response) }
        guard let aggregate = found.string(0, 2), let current = try await reread(aggregate) else {
            throw ServiceError(
                code: 409, message: "the request with this Idempotency-Key changed a record that is gone")
        }
        return current
    }

    /// Stores the answer of a key's first use.
    public func record(_ key: IdempotencyKey, answer: [UInt8]) async throws {
        try await database.execute(
            "UPDATE \(table) SET response = $2 WHERE key = $1",
            [key.key, String(decoding: answer, as: UTF8.self)],
            prepared: "\(table) answer")
    }

    /// Whether a write failed because a twin request with the same key wrote first.
    public func isTwin(_ error: PostgresError) -> Bool {
        error.kind == .uniqueViolation && error.constraint == "\(table)_pkey"
    }

    /// Forgets keys older than a day.
    public func expire() async throws {
        try await database.execute(
            "DELETE FROM \(table) WHERE created_at < now() - interval '1 day'", prepared: "\(table) expire")
    }
}

extension IdempotencyKeys {
    /// Runs `write` once per key: a key seen before gets its first answer, a twin request
    /// sent at the same moment the answer of the one that wrote. Without a key, just `write`.
    public func once(
        _ key: IdempotencyKey?, reread: (String) async throws -> [UInt8]?, _ write: () async throws -> [UInt8]
    ) async throws -> [UInt8] {
        guard let key else { return try await write() }
        if let answer = try await replay(key, reread: reread) { return answer }
        do {
            let answer = try await write()
            // Not stored (the database went away just now): a second use reads the record.
            try? await record(key, answer: answer)
            return answer
        } catch let error as PostgresError where isTwin(error) {
            if let answer = try await replay(key, reread: reread) { return answer }
            throw error
        }
    }
}

extension WriteOrigin {
    /// The request id and idempotency key of a request to a service.
    public init(_ context: HandlerContext, request: [UInt8]) {
        self.init(requestID: context.requestID, idempotency: IdempotencyKey(context, request: request))
    }
}

extension IdempotencyKeys {
    /// Forgets old keys every ten minutes until the task is cancelled.
    public func expireRegularly() async {
        while !Task.isCancelled {
            try? await expire()
            try? await Task.sleep(for: .seconds(600))
        }
    }
}
