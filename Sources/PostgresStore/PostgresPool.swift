import Foundation
import StoreSupport
import Synchronization

/// A fixed set of libpq connections, each used by one blocking thread at a time: queries
/// never block the cooperative pool, and never wait for a connection (there are as many as
/// threads). While the database is down, requests fail at once with `unavailable` for a
/// short back-off, then the next one tries again, so the service recovers by itself.
public final class PostgresPool: Sendable {
    private final class Connections: @unchecked Sendable {
        // @unchecked Sendable: `idle` is only touched under `lock`; a connection taken out
        // is used by that one thread until it is put back.
        let lock = NSLock()
        var idle: [PostgresConnection]
        init(_ idle: [PostgresConnection]) { self.idle = idle }
    }

    private let connections: Connections
    private let executor: BlockingPool
    private let downUntil = Mutex<Date?>(nil)
    private let retryAfter: TimeInterval

    /// `conninfo` is a libpq connection string or `postgresql://` URL.
    public init(conninfo: String, size: Int, retryAfter: TimeInterval = 0.5) {
        let size = max(1, size)
        connections = Connections((0..<size).map { _ in PostgresConnection(conninfo: conninfo) })
        executor = BlockingPool(threads: size, name: "postgres")
        self.retryAfter = retryAfter
    }

    /// Runs a statement with text parameters (`nil` is NULL). Give hot statements a
    /// `prepared` name: they are prepared once per connection.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = [], prepared: String? = nil) async throws
        -> PostgresResult
    {
        if let until = downUntil.withLock({ $0 }), until > Date() {
            throw PostgresError(kind: .unavailable, message: "database unavailable (retrying shortly)")
        }
        let connections = self.connections
        do {
            let result = try await executor.run { () throws -> PostgresResult in
                connections.lock.lock()
                let connection = connections.idle.popLast()
                connections.lock.unlock()
                guard let connection else {
                    throw PostgresError(kind: .unavailable, message: "no connection available")
                }
                defer {
                    connections.lock.lock()
                    connections.idle.append(connection)
                    connections.lock.unlock()
                }
                return try connection.execute(sql, parameters, preparedName: prepared)
            }
            downUntil.withLock { $0 = nil }
            return result
        } catch let error as PostgresError where error.kind == .unavailable {
            // Only a failed connect says the server is down: back off. A working connection
            // that broke (a restart) is replaced by the next request at once.
            if error.whileConnecting { downUntil.withLock { $0 = Date().addingTimeInterval(retryAfter) } }
            // The server went away: every idle connection is as dead as this one. Dropping
            // them now makes the next requests connect afresh instead of failing one by one.
            connections.lock.withLock {
                for connection in connections.idle { connection.close() }
            }
            throw error
        }
    }

    public func query(_ sql: String, _ parameters: [String?] = [], prepared: String? = nil) async throws
        -> [PostgresRow]
    {
        try await execute(sql, parameters, prepared: prepared).rows
    }
}
