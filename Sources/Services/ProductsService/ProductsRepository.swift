import Contracts
import NATSWire
import PostgresStore
import PostgresTables
import ServiceRuntime

/// `products`, `categories` and `suppliers`, the tables this service owns.
struct ProductsRepository: Sendable {
    let database: PostgresPool
    let statistics: PlanStatistics
    /// Each change writes its event and idempotency key in the same statement
    /// (``ChangeTracking``).
    let changes: ChangeTracking
    var outbox: EventOutbox { changes.outbox }
    var keys: IdempotencyKeys { changes.keys }

    init(database: PostgresPool, changes: ChangeTracking) {
        self.database = database
        self.statistics = PlanStatistics(table: "products", database: database)
        self.changes = changes
    }

    static let products = TableSchema(name: "products", record: Records.product)
    static let categories = TableSchema(name: "categories", record: Records.category)
    static let suppliers = TableSchema(name: "suppliers", record: Records.supplier)

    static let productColumns = products.columns.map { "p.\($0.name)" }.joined(separator: ", ")
    /// A product's columns with its category's and supplier's names, for one row `p`: two
    /// index lookups. A join instead made the generic plan hash both tables for every row
    /// asked for (PostgreSQL spent a third more per lookup).
    static let productWithNames = """
        \(productColumns),
        (SELECT c.category_name FROM categories c WHERE c.category_id = p.category_id) AS category_name,
        (SELECT s.company_name FROM suppliers s WHERE s.supplier_id = p.supplier_id) AS supplier_name
        """

    /// The service-owned, idempotent migration: a sequence owned by `product_id`, moved past
    /// the highest id in the table. The canonical dump has no sequence and no default, so
    /// this is what makes concurrent creates safe. Running it again changes nothing.
    /// Replicas may start at the same moment: `CREATE ... IF NOT EXISTS` is not safe against
    /// a concurrent twin, so the statement runs in one transaction under an advisory lock.
    ///
    /// It also keeps the number of products in `products_row_counts`, so the unfiltered list
    /// is counted in constant time: `count(*)` scans the whole table on every page (0.85 ms
    /// at 10,000 rows), and the table grows under the original load scenario. Statement-level
    /// triggers add each statement's inserted and deleted rows to one of 16 slots chosen by
    /// the backend, so concurrent writers on different connections never wait for each other;
    /// the total is the slots' sum, exact in every snapshot. The counts start from `count(*)`
    /// taken while writes are locked out.
    func migrate() async throws {
        try await database.execute(
            """
            DO $$
            BEGIN
              PERFORM pg_advisory_xact_lock(7239001);
              CREATE SEQUENCE IF NOT EXISTS products_product_id_seq AS smallint OWNED BY products.product_id;
              IF to_regclass('products_row_counts') IS NULL THEN
                LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE;
                CREATE TABLE products_row_counts (slot smallint PRIMARY KEY, n bigint NOT NULL);
                INSERT INTO products_row_counts SELECT g, CASE WHEN g = 0 THEN (SELECT count(*) FROM products) ELSE 0 END
                  FROM generate_series(0, 15) g;
                CREATE FUNCTION products_count_rows() RETURNS trigger LANGUAGE plpgsql AS $f$
                BEGIN
                  IF TG_OP = 'INSERT' THEN
                    UPDATE products_row_counts SET n = n + (SELECT count(*) FROM inserted_rows)
                      WHERE slot = pg_backend_pid() % 16;
                  ELSIF TG_OP = 'DELETE' THEN
                    UPDATE products_row_counts SET n = n - (SELECT count(*) FROM deleted_rows)
                      WHERE slot = pg_backend_pid() % 16;
                  ELSE
                    UPDATE products_row_counts SET n = 0;
                  END IF;
                  RETURN NULL;
                END $f$;
                CREATE TRIGGER products_count_inserts AFTER INSERT ON products
                  REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION products_count_rows();
                CREATE TRIGGER products_count_deletes AFTER DELETE ON products
                  REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION products_count_rows();
                CREATE TRIGGER products_count_truncates AFTER TRUNCATE ON products
                  FOR EACH STATEMENT EXECUTE FUNCTION products_count_rows();
              END IF;
            END $$
            """)
        try await syncSequence()
        try await statistics.start()
    }

    private func syncSequence() async throws {
        try await database.execute(
            """
            SELECT setval('products_product_id_seq', t.m)
            FROM (SELECT max(product_id) AS m FROM products) t, products_product_id_seq s
            WHERE t.m IS NOT NULL AND (t.m > s.last_value OR (NOT s.is_called AND t.m >= s.last_value))
            """)
    }

    /// Moves an exhausted sequence back to the highest id in use; `false` if that is the end.
    private func rewindSequence() async throws -> Bool {
        let result = try await database.run(
            """
            SELECT setval('products_product_id_seq', m) FROM (SELECT max(product_id) AS m FROM products) t
            WHERE m IS NOT NULL AND m < 32767
            """)
        return result.rowCount == 1
    }

    struct ListFilter {
        var categoryID: String?
        var supplierID: String?
        var discontinued: String?
        var search: String?
    }

    /// One page and the total in one prepared statement (one round trip, one result). The
    /// statements name only the filters given (one prepared statement per combination and
    /// sort): a generic plan for `($1 IS NULL OR ...)` conditions could not use the primary
    /// key's order and joined and sorted the whole table for every page. The page is cut
    /// before the category and supplier names are joined, so only its rows are joined. The
    /// unfiltered total comes from the trigger-kept counts (see ``migrate()``).
    func list(_ filter: ListFilter, orderBy: String, page: ListRequest) async throws -> (
        rows: RowWriter, total: Int
    ) {
        let given: [(condition: String, value: String?)] = [
            ("p.category_id = $%::smallint", filter.categoryID),
            ("p.supplier_id = $%::smallint", filter.supplierID),
            ("p.discontinued = $%::integer", filter.discontinued),
            ("p.product_name ILIKE $%", filter.search.map(likePattern)),
        ]
        var conditions: [String] = []
        var parameters: [String?] = []
        var combination = 0
        for (bit, entry) in given.enumerated() {
            guard let value = entry.value else { continue }
            parameters.append(value)
            conditions.append(entry.condition.replacing("$%", with: "$\(parameters.count)"))
            combination |= 1 << bit
        }
        let filterSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let count =
            conditions.isEmpty
            ? "SELECT sum(n) FROM products_row_counts"
            : "SELECT count(*) FROM products p \(filterSQL)"
        let limit = parameters.count + 1
        let result = try await database.run(
            """
            SELECT \(Self.productColumns), c.category_name, s.company_name AS supplier_name,
              (\(count)) AS \(RowWriter.totalColumn)
            FROM (
              SELECT * FROM products p \(filterSQL) ORDER BY p.\(orderBy), p.product_id LIMIT $\(limit) OFFSET $\(limit + 1)
            ) p
            LEFT JOIN categories c ON c.category_id = p.category_id
            LEFT JOIN suppliers s ON s.supplier_id = p.supplier_id
            ORDER BY p.\(orderBy), p.product_id
            """,
            parameters + [String(page.limit), String(page.offset)],
            prepared: "products_page \(combination) \(orderBy)")
        let rows = Self.products.rowWriter(for: result)
        if let total = rows.total { return (rows, total) }
        // No row carries the total: nothing matched, or the page is past the end.
        if page.offset == 0 { return (rows, 0) }
        return (
            rows,
            try await database.run(count, parameters, prepared: "products_count \(combination)").int(0, 0)
                ?? 0
        )
    }

    /// A product's JSON as it is now, if it exists.
    func current(_ id: String) async throws -> [UInt8]? {
        guard let id = Int(id) else { return nil }
        return try await find(id).first
    }

    func find(_ id: Int) async throws -> RowWriter {
        Self.products.rowWriter(
            for: try await database.run(
                "SELECT \(Self.productWithNames) FROM products p WHERE p.product_id = $1", [String(id)],
                prepared: "product_by_id"))
    }

    /// Which of the referenced category and supplier do not exist.
    func missingReferences(categoryID: String?, supplierID: String?) async throws -> [String] {
        guard categoryID != nil || supplierID != nil else { return [] }
        let row = try await database.execute(
            """
            SELECT ($1::smallint IS NULL OR EXISTS (SELECT 1 FROM categories WHERE category_id = $1::smallint)) AS category_ok,
                   ($2::smallint IS NULL OR EXISTS (SELECT 1 FROM suppliers WHERE supplier_id = $2::smallint)) AS supplier_ok
            """, [categoryID, supplierID], prepared: "product_references"
        ).rows.first
        var missing: [String] = []
        if row?["category_ok"] != "t" { missing.append("category_id") }
        if row?["supplier_ok"] != "t" { missing.append("supplier_id") }
        return missing
    }

    /// Inserts with an id from the sequence and returns the new row with its category and
    /// supplier names, in one statement; resyncs and retries if someone wrote an id past the
    /// sequence by other means.
    func insert(_ values: [(column: Column, value: String?)], origin: WriteOrigin) async throws -> RowWriter {
        let names = (["product_id"] + values.map(\.column.name)).joined(separator: ", ")
        let placeholders = (["nextval('products_product_id_seq')"] + values.indices.map { "$\($0 + 1)" })
            .joined(separator: ", ")
        let statement = outbox.statement(
            "INSERT INTO products (\(names)) VALUES (\(placeholders)) RETURNING *", alias: "p",
            key: "product_id", event: .created, select: Self.productWithNames,
            parameters: values.map(\.value),
            origin: origin, prepared: "products_insert \(names)")
        for attempt in 0..<3 {
            do {
                let rows = Self.products.rowWriter(
                    for: try await database.run(
                        statement.sql, statement.parameters, prepared: statement.prepared))
                guard rows.count == 1 else {
                    throw ServiceError(code: 500, message: "insert returned no row")
                }
                statistics.recordWrites(1)
                changes.relay.poke()
                return rows
            } catch let error as PostgresError
                where error.kind == .uniqueViolation && !keys.isTwin(error) && attempt < 2
            {
                try await syncSequence()
            } catch let error as PostgresError where error.sqlState == "2200H" {
                // The smallint sequence ran out; after deletes the highest id in use may be far
                // below it: restart from there once, else say so.
                guard attempt < 2, try await rewindSequence() else {
                    throw ServiceError(code: 409, message: "no product id left (product_id is a smallint)")
                }
            }
        }
        throw ServiceError(code: 500, message: "could not allocate a product id")
    }

    func update(_ id: Int, _ values: [(column: Column, value: String?)], origin: WriteOrigin) async throws
        -> Bool
    {
        guard !values.isEmpty else { return try await find(id).count > 0 }
        let assignments = values.enumerated().map { "\($1.column.name) = $\($0 + 2)" }.joined(separator: ", ")
        return try await change(
            "UPDATE products SET \(assignments) WHERE product_id = $1 RETURNING *", event: .updated,
            [String(id)] + values.map(\.value), origin: origin, prepared: nil) > 0
    }

    func delete(_ id: Int, origin: WriteOrigin) async throws -> Int {
        let deleted = try await change(
            "DELETE FROM products WHERE product_id = $1 RETURNING *", event: .deleted, [String(id)],
            origin: origin, prepared: "product_delete")
        statistics.recordWrites(deleted)
        return deleted
    }

    /// One change, its event and its idempotency key, in one statement; how many rows it
    /// changed.
    private func change(
        _ sql: String, event: EventOutbox.Change, _ parameters: [String?], origin: WriteOrigin,
        prepared: String?
    ) async throws -> Int {
        let statement = outbox.statement(
            sql, alias: "changed", key: "product_id", event: event, select: "1", parameters: parameters,
            origin: origin, prepared: prepared)
        let changed = try await database.run(
            statement.sql, statement.parameters, prepared: statement.prepared
        )
        .rowCount
        if changed > 0 { changes.relay.poke() }
        return changed
    }

    func listAll(_ table: TableSchema, key: String) async throws -> RowWriter {
        let columns = table.columns.map(\.name).joined(separator: ", ")
        return table.rowWriter(
            for: try await database.run(
                "SELECT \(columns) FROM \(table.name) ORDER BY \(key)", prepared: "\(table.name)_all"))
    }

    func findOne(_ table: TableSchema, key: String, id: Int) async throws -> RowWriter {
        let columns = table.columns.map(\.name).joined(separator: ", ")
        return table.rowWriter(
            for: try await database.run(
                "SELECT \(columns) FROM \(table.name) WHERE \(key) = $1", [String(id)],
                prepared: "\(table.name)_by_id"))
    }
}
