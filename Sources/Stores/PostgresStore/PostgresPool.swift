import BlockingCalls
import Synchronization
import Tracing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A few pipelined libpq connections shared by every request. A statement is sent by the
/// requesting task and its result read by one poller thread: no thread hop per query, and
/// concurrent requests share connections instead of waiting for one. Connections open
/// lazily (on a thread of their own, never on the cooperative pool) as concurrency needs
/// them. While the database is down, requests fail at once with `unavailable` for a short
/// back-off, then the next one tries again, so the service recovers by itself.
public final class PostgresPool: Sendable {
    private let connections: [PostgresConnection]
    private let poller: PostgresPoller
    /// Opens connections: PQconnectdb blocks, so never on the cooperative pool.
    private let connector: BlockingPool
    private let downUntil = Mutex<ContinuousClock.Instant?>(nil)
    private let connectFailures = Atomic<UInt64>(0)
    private let retryAfter: Duration
    /// Whether the poller and the connect thread are this pool's (else another's it shares).
    private let ownsThreads: Bool
    private let spansIn: (@Sendable () -> (any Tracer)?)?
    private let database: String?
    /// The span attributes of each prepared statement (a fixed set of names), made once: a
    /// statement's `SpanAttributes` (built, hashed, converted at the span's end) were about a
    /// tenth of what tracing added to a data service's CPU, and the building is saved.
    private let preparedSpanAttributes = Mutex<[String: SpanAttributes]>([:])

    /// A session setting (`SET name = value`) every connection applies when it opens.
    public struct Setting: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// What the pool sets unless told otherwise: generic plans for prepared statements.
    /// PostgreSQL's default plans a statement afresh on every execution whenever the plan for
    /// its actual parameters looks cheaper than the generic one, and with `LIMIT $n` it always
    /// does: a page of products (three tables) spent most of its database time in the planner.
    /// The statements here are short, index-driven lookups whose best plan does not depend on
    /// the values.
    public static let defaultSettings = [Setting("plan_cache_mode", "force_generic_plan")]

    /// `conninfo` is a libpq connection string or `postgresql://` URL; `size` is the most
    /// connections opened; `settings` are applied to every connection when it opens.
    /// With `spansIn`, a statement run while it gives a tracer (inside a recorded trace) is a
    /// client span started in the current `ServiceContext` (swift-distributed-tracing; the
    /// tracer finds the parent there or where its runtime bound it): its prepared name (or,
    /// unprepared, the SQL text with its `$n` placeholders), never the values. `nil`: no
    /// spans, no cost.
    public init(
        conninfo: String, size: Int, settings: [Setting] = defaultSettings,
        retryAfter: Duration = .milliseconds(500),
        spansIn: (@Sendable () -> (any Tracer)?)? = nil
    ) throws {
        let poller = try PostgresPoller(name: "postgres-poller")
        self.poller = poller
        connector = BlockingPool(threads: 1, name: "postgres-connect")
        connections = (0..<max(1, size)).map { _ in
            PostgresConnection(conninfo: conninfo, settings: settings, poller: poller)
        }
        self.retryAfter = retryAfter
        self.spansIn = spansIn
        database = Self.databaseName(conninfo)
        ownsThreads = true
    }

    /// A pool of its own connections that shares `other`'s poller and connect threads (e.g.
    /// one session kept apart for an advisory lock): no threads more.
    public init(
        conninfo: String, size: Int, sharingThreadsOf other: PostgresPool,
        settings: [Setting] = defaultSettings,
        retryAfter: Duration = .milliseconds(500)
    ) {
        poller = other.poller
        connector = other.connector
        connections = (0..<max(1, size)).map { _ in
            PostgresConnection(conninfo: conninfo, settings: settings, poller: other.poller)
        }
        self.retryAfter = retryAfter
        spansIn = other.spansIn
        database = Self.databaseName(conninfo)
        ownsThreads = false
    }

    /// The thread that reads every result, as a task executor: run request handlers there
    /// (``NATSWire/ServiceConfig/executor``) so that a result resumes its request without
    /// waking another thread.
    public var executor: any TaskExecutor { poller }

    deinit {
        for connection in connections { connection.close() }
        if ownsThreads {
            poller.stop()
            connector.shutdown()
        }
    }

    /// Runs a statement with text parameters (`nil` is NULL) and returns libpq's result to
    /// read in place. Give hot statements a `prepared` name: they are prepared once per
    /// connection.
    public func run(_ sql: String, _ parameters: [String?] = [], prepared: String? = nil) async throws
        -> PostgresResultSet
    {
        // Statements of a recorded trace only: background work (a relay's polling, outside
        // any request) would make a root trace of every statement.
        guard let spansIn, let tracer = spansIn() else {
            return try await runUntraced(sql, parameters, prepared: prepared)
        }
        // Started and ended, not `withSpan`: nothing inside reads the span's context, and
        // binding it costs a task-local push and a `ServiceContext` with the span in it.
        let span = tracer.startAnySpan(
            prepared ?? Self.operationName(sql), context: ServiceContext.current ?? .topLevel, ofKind: .client
        )
        span.attributes = spanAttributes(sql, prepared: prepared)
        defer { span.end() }
        do {
            return try await runUntraced(sql, parameters, prepared: prepared)
        } catch {
            span.recordError(error)
            throw error
        }
    }

    /// A statement's span attributes. A prepared statement is named by its name (its text is
    /// the same every time, and a few hundred bytes per span to export); others by their text.
    private func spanAttributes(_ sql: String, prepared: String?) -> SpanAttributes {
        if let prepared, let made = preparedSpanAttributes.withLock({ $0[prepared] }) { return made }
        var attributes: SpanAttributes = [
            "db.system.name": "postgresql", "db.operation.name": .string(Self.operationName(sql)),
        ]
        if let prepared {
            attributes["db.statement.name"] = prepared
        } else {
            attributes["db.query.text"] = sql
        }
        if let database { attributes["db.namespace"] = database }
        if let prepared { preparedSpanAttributes.withLock { $0[prepared] = attributes } }
        return attributes
    }

    /// `SELECT`, `INSERT`, … : the statement's first word, upper-cased (`WITH` for a CTE).
    static func operationName(_ sql: String) -> String {
        // Bytes, not Characters: Unicode properties per character cost more than the span.
        let word = sql.utf8.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x28 }.prefix {
            (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
        }
        return String(decoding: word.map { $0 & 0xDF }, as: UTF8.self)
    }

    /// `dbname` of a URL or key-value conninfo, for the spans.
    static func databaseName(_ conninfo: String) -> String? {
        if conninfo.hasPrefix("postgres") {
            guard
                let slash = conninfo.dropFirst(conninfo.hasPrefix("postgresql://") ? 13 : 11).firstIndex(
                    of: "/")
            else { return nil }
            let name = conninfo[conninfo.index(after: slash)...].prefix { $0 != "?" }
            return name.isEmpty ? nil : String(name)
        }
        for pair in conninfo.split(separator: " ") where pair.hasPrefix("dbname=") {
            return String(pair.dropFirst(7))
        }
        return nil
    }

    private func runUntraced(_ sql: String, _ parameters: [String?], prepared: String?) async throws
        -> PostgresResultSet
    {
        if let until = downUntil.withLock({ $0 }), until > .now {
            throw PostgresError(kind: .unavailable, message: "database unavailable (retrying shortly)")
        }
        do {
            let connection = try await pick()
            let result = try await connection.execute(
                sql, parameters, preparedName: prepared.map(Self.statementName))
            return result
        } catch let error as PostgresError where error.kind == .unavailable {
            // Only a failed connect says the server is down: back off. A working connection
            // that broke (a restart) is replaced by the next request at once.
            if error.whileConnecting { downUntil.withLock { $0 = .now.advanced(by: retryAfter) } }
            // The server went away: every connection is as dead as this one. Dropping them
            // now makes the next requests connect afresh instead of failing one by one.
            for connection in connections where connection.outstanding == 0 { connection.close() }
            throw error
        }
    }

    /// Runs a statement and returns its rows as strings and the rows it touched.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = [], prepared: String? = nil) async throws
        -> PostgresResult
    {
        let result = try await run(sql, parameters, prepared: prepared)
        return PostgresResult(rows: result.rows, affectedRows: result.affectedRows)
    }

    /// What the pool is doing now, for metrics.
    public struct Statistics: Sendable, Equatable {
        /// Connections the pool may open.
        public var size: Int
        /// Connections open.
        public var open: Int
        /// Open connections with at least one statement outstanding.
        public var busy: Int
        /// Statements sent and not yet answered, over every connection.
        public var inFlight: Int
        /// Connection attempts that failed since the pool was made.
        public var connectFailures: UInt64
    }

    public var statistics: Statistics {
        var statistics = Statistics(
            size: connections.count, open: 0, busy: 0, inFlight: 0,
            connectFailures: connectFailures.load(ordering: .relaxed))
        for connection in connections where connection.isConnected {
            let outstanding = connection.outstanding
            statistics.open += 1
            statistics.busy += outstanding > 0 ? 1 : 0
            statistics.inFlight += outstanding
        }
        return statistics
    }

    /// The server's name for a prepared statement. PostgreSQL cuts names at 63 bytes, so
    /// two long names with the same start would be one statement ("already exists"): a long
    /// name is replaced by a hash of all of it.
    public static func statementName(_ name: String) -> String {
        guard name.utf8.count > 63 else { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, 64 bits
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return String(decoding: name.utf8.prefix(40), as: UTF8.self) + "#" + String(hash, radix: 16)
    }

    /// Reads one connection carries before the next is used. Each backend is a process that
    /// wakes for every batch it reads: spreading 64 concurrent lookups over eight connections
    /// woke a backend for nearly every statement. Filling connections in order instead
    /// (alternating runs of `GET /products/{id}`, 64 connections): PostgreSQL per lookup
    /// 61–68 → 38–40 µs, throughput +12 %; the original scenario (writes) unchanged.
    public static let pipelineDepth = 16

    /// The first open connection, in order, with room in its pipeline and no write waiting
    /// for its commit; else a new one while fewer than `size` are open; else the open one
    /// with the least outstanding, writes counted heavier (a commit's flush holds everything
    /// queued behind it).
    private func pick() async throws -> PostgresConnection {
        var best: PostgresConnection?
        var bestLoad = Int.max
        var unopened: PostgresConnection?
        for connection in connections {
            guard connection.isConnected else {
                if unopened == nil { unopened = connection }
                continue
            }
            let load = connection.outstanding
            let writes = connection.outstandingWrites
            if load < Self.pipelineDepth && writes == 0 { return connection }
            let weighted = load + writes * Self.pipelineDepth
            if weighted < bestLoad {
                best = connection
                bestLoad = weighted
            }
        }
        if let unopened {
            do {
                try await connector.run { try unopened.connectIfNeeded() }
                downUntil.withLock { $0 = nil }
                return unopened
            } catch let error as PostgresError where best == nil || !error.whileConnecting {
                if error.whileConnecting { connectFailures.add(1, ordering: .relaxed) }
                throw error
            } catch {
                // More connections would help, but the open ones still work.
                connectFailures.add(1, ordering: .relaxed)
            }
        }
        guard let best else { throw PostgresError(kind: .unavailable, message: "no connection available") }
        return best
    }
}
