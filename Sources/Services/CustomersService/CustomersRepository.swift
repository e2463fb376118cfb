import Contracts
import PostgresStore
import PostgresTables
import ServiceRuntime

/// The `customers` table, the only one this service may touch.
struct CustomersRepository: Sendable {
    let database: PostgresPool
    /// Each change writes its event and idempotency key in the same statement
    /// (``ChangeTracking``).
    let changes: ChangeTracking
    var outbox: EventOutbox { changes.outbox }
    var keys: IdempotencyKeys { changes.keys }

    static let schema = TableSchema(name: "customers", record: Records.customer)
    static let columnList = schema.columns.map(\.name).joined(separator: ", ")

    /// One page and the total in one prepared statement (one round trip, one result), naming
    /// the search only when there is one, as the products list does.
    func list(search: String?, orderBy: String, page: ListRequest) async throws -> (
        rows: RowWriter, total: Int
    ) {
        let pattern = search.map(likePattern)
        let filter = pattern == nil ? "" : "WHERE company_name ILIKE $1 OR contact_name ILIKE $1"
        let parameters = pattern.map { [$0] } ?? []
        let variant = pattern == nil ? "all" : "search"
        let limit = parameters.count + 1
        let count = "SELECT count(*) FROM customers \(filter)"
        let result = try await database.run(
            """
            SELECT \(Self.columnList), (\(count)) AS \(RowWriter.totalColumn) FROM customers \(filter)
            ORDER BY \(orderBy), customer_id LIMIT $\(limit) OFFSET $\(limit + 1)
            """,
            parameters + [String(page.limit), String(page.offset)],
            prepared: "customers_page \(variant) \(orderBy)")
        let rows = Self.schema.rowWriter(for: result)
        if let total = rows.total { return (rows, total) }
        // No row carries the total: nothing matched, or the page is past the end.
        if page.offset == 0 { return (rows, 0) }
        return (
            rows,
            try await database.run(count, parameters, prepared: "customers_count \(variant)").int(0, 0) ?? 0
        )
    }

    /// Every customer, in key order (the original system's list has no paging).
    func all() async throws -> RowWriter {
        Self.schema.rowWriter(
            for: try await database.run(
                "SELECT \(Self.columnList) FROM customers ORDER BY customer_id", [], prepared: "customers_all"
            ))
    }

    /// A customer's JSON as it is now, if it exists.
    func current(_ id: String) async throws -> [UInt8]? { try await find(id).first }

    func find(_ id: String) async throws -> RowWriter {
        Self.schema.rowWriter(
            for: try await database.run(
                "SELECT \(Self.columnList) FROM customers WHERE customer_id = $1", [id],
                prepared: "customer_by_id"))
    }

    func insert(_ values: [(column: Column, value: String?)], origin: WriteOrigin) async throws -> RowWriter {
        let names = values.map(\.column.name).joined(separator: ", ")
        let placeholders = values.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        return try await change(
            "INSERT INTO customers (\(names)) VALUES (\(placeholders)) RETURNING *", event: .created,
            values.map(\.value), origin: origin, prepared: "customers_insert \(names)")
    }

    func update(_ id: String, _ values: [(column: Column, value: String?)], origin: WriteOrigin) async throws
        -> RowWriter
    {
        guard !values.isEmpty else { return try await find(id) }
        let assignments = values.enumerated().map { "\($1.column.name) = $\($0 + 2)" }.joined(separator: ", ")
        return try await change(
            "UPDATE customers SET \(assignments) WHERE customer_id = $1 RETURNING *", event: .updated,
            [id] + values.map(\.value), origin: origin, prepared: nil)
    }

    func delete(_ id: String, origin: WriteOrigin) async throws -> Int {
        try await change(
            "DELETE FROM customers WHERE customer_id = $1 RETURNING *", event: .deleted, [id], origin: origin,
            prepared: "customer_delete"
        ).count
    }

    /// One change, its event and its idempotency key, in one statement; the changed rows as
    /// the reply's JSON.
    private func change(
        _ sql: String, event: EventOutbox.Change, _ parameters: [String?], origin: WriteOrigin,
        prepared: String?
    ) async throws -> RowWriter {
        let statement = outbox.statement(
            sql, alias: "changed", key: "customer_id", event: event, select: Self.columnList,
            parameters: parameters, origin: origin, prepared: prepared)
        let rows = Self.schema.rowWriter(
            for: try await database.run(statement.sql, statement.parameters, prepared: statement.prepared))
        if rows.count > 0 { changes.relay.poke() }
        return rows
    }
}
