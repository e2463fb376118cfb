import TestHarness
import Testing

@testable import PostgresStore

/// Which connection the pool gives a statement: reads fill one pipelined connection before
/// the next is used; nothing waits behind a write that has not committed.
@Suite("PostgresPool connection choice", .timeLimit(.minutes(2)))
struct PostgresPoolTests {
    @Test func onlySelectCountsAsAQuery() {
        #expect(PostgresConnection.isQuery("SELECT 1"))
        #expect(PostgresConnection.isQuery("\n  select\n* FROM products"))
        #expect(PostgresConnection.isQuery("SELECT"))
        #expect(!PostgresConnection.isQuery("SELECTED"))
        #expect(!PostgresConnection.isQuery("INSERT INTO t VALUES (1)"))
        #expect(!PostgresConnection.isQuery("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"))
        #expect(!PostgresConnection.isQuery("UPDATE t SET a = 1"))
        #expect(!PostgresConnection.isQuery(""))
    }

    @Test func concurrentReadsShareOnePipelinedConnection() async throws {
        let postgres = try await PostgresServer.shared()
        let pool = try PostgresPool(
            conninfo: postgres.url(user: "products_svc", password: PostgresServer.productsPassword), size: 8)
        let backends = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<PostgresPool.pipelineDepth {
                group.addTask {
                    (try await pool.execute("SELECT pg_backend_pid()").rows.first?.values.first ?? nil) ?? ""
                }
            }
            var pids: Set<String> = []
            for try await pid in group { pids.insert(pid) }
            return pids
        }
        // As many reads as one pipeline holds: one backend, however they interleave (before,
        // every idle connection was taken first and eight backends woke for them).
        #expect(backends.count == 1, "\(backends)")
    }

    @Test func readsDoNotQueueBehindAnUncommittedWrite() async throws {
        let postgres = try await PostgresServer.shared()
        let url = postgres.url(user: "products_svc", password: PostgresServer.productsPassword)
        let pool = try PostgresPool(conninfo: url, size: 4)
        // Another session holds an advisory lock, so the pool's write below cannot finish
        // until the test lets it.
        let holder = try PostgresPool(conninfo: url, size: 1)
        let lock = 7_239_777
        _ = try await holder.execute("SELECT pg_advisory_lock(\(lock))")
        let writeStarted = try await pool.execute("SELECT pg_backend_pid()").rows.first?.values.first ?? nil
        let write = Task {
            try await pool.execute(
                "DO $$ BEGIN PERFORM pg_advisory_lock(\(lock)); PERFORM pg_advisory_unlock(\(lock)); END $$")
        }
        // The write is on the first connection once its backend waits for the lock.
        let waiting = await eventually(timeout: .seconds(30)) {
            let query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            return (try? await holder.execute(query).rows.first?.values.first ?? nil) == "1"
        }
        #expect(waiting)
        // A read sent now must not wait behind it: queued on the same connection it would
        // only answer after the lock is released, and this test would hang.
        let reader = try await pool.execute("SELECT pg_backend_pid()").rows.first?.values.first ?? nil
        #expect(reader != nil && reader != writeStarted)
        _ = try await holder.execute("SELECT pg_advisory_unlock(\(lock))")
        _ = try await write.value
    }
}
