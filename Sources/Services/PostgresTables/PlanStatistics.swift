import PostgresStore
import Synchronization

/// Keeps PostgreSQL's statistics of a table in step with the service's own writes.
///
/// The pool runs prepared statements with generic plans (see
/// ``PostgresPool/defaultSettings``), made once per connection from the table's statistics
/// and kept until the statistics change. A table that grows fast (the original load
/// scenario creates a thousand products a second) keeps the plan made for its old size,
/// which may be a full scan and sort for every page, until autovacuum analyzes it, up to a
/// minute later: a page of products cost four times as much in the meantime. So after the
/// service itself has inserted or deleted a fifth of the rows (at least `minimumWrites`), it
/// analyzes the table, in the background and one run at a time; the fresh statistics make
/// every connection plan again. Writes by other means are left to autovacuum.
public final class PlanStatistics: Sendable {
    private struct State {
        var writes = 0
        /// Rows when the table was last analyzed, as PostgreSQL estimates them.
        var rows = 0
        var analyzing = false
    }

    private let table: String
    private let database: PostgresPool
    private let minimumWrites: Int
    private let state = Mutex(State())

    /// `table` is a name the service owns (never user input).
    public init(table: String, database: PostgresPool, minimumWrites: Int = 200) {
        self.table = table
        self.database = database
        self.minimumWrites = minimumWrites
    }

    /// Reads the table's estimated size, the baseline for ``recordWrites(_:)``.
    public func start() async throws {
        let rows = try await estimatedRows()
        state.withLock { $0.rows = rows }
    }

    /// Counts rows the service inserted or deleted; analyzes the table once they are many.
    public func recordWrites(_ count: Int) {
        guard count > 0 else { return }
        let due = state.withLock { state -> Bool in
            state.writes += count
            guard !state.analyzing, state.writes >= max(minimumWrites, state.rows / 5) else { return false }
            state.analyzing = true
            state.writes = 0
            return true
        }
        guard due else { return }
        Task {
            let rows = try? await analyze()
            state.withLock { state in
                state.analyzing = false
                if let rows { state.rows = rows }
            }
        }
    }

    private func analyze() async throws -> Int {
        try await database.execute("ANALYZE \(table)")
        return try await estimatedRows()
    }

    private func estimatedRows() async throws -> Int {
        let result = try await database.run(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = $1::regclass", [table])
        return result.int(0, 0) ?? 0
    }
}
