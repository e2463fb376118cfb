import CPostgres
import Foundation

/// One libpq connection, used by one thread at a time (the pool hands it out).
final class PostgresConnection {
    private var connection: OpaquePointer?
    private var preparedNames: Set<String> = []
    let conninfo: String

    init(conninfo: String) {
        self.conninfo = conninfo
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
        preparedNames.removeAll()
    }

    /// A live connection: reconnects if there is none or the server hung up (a restart
    /// shows up as a readable socket with EOF, which `PQconsumeInput` notices).
    private func live() throws -> OpaquePointer {
        if let connection {
            if PQconsumeInput(connection) == 1 && PQstatus(connection) == CONNECTION_OK { return connection }
            close()
        }
        guard let fresh = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .unavailable, message: "out of memory connecting")
        }
        guard PQstatus(fresh) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(fresh)).trimmingCharacters(
                in: .whitespacesAndNewlines)
            PQfinish(fresh)
            var error = PostgresError(kind: .unavailable, message: message)
            error.whileConnecting = true
            throw error
        }
        connection = fresh
        return fresh
    }

    /// Runs `sql` with text parameters. With `preparedName`, the statement is prepared once
    /// per connection and executed by name afterwards.
    func execute(_ sql: String, _ parameters: [String?], preparedName: String?) throws -> PostgresResult {
        let connection = try live()
        if let preparedName, !preparedNames.contains(preparedName) {
            let result = PQprepare(connection, preparedName, sql, Int32(parameters.count), nil)
            defer { PQclear(result) }
            try check(result, connection)
            preparedNames.insert(preparedName)
        }
        let result = withCStrings(parameters) { pointers in
            if let preparedName {
                return PQexecPrepared(
                    connection, preparedName, Int32(parameters.count), pointers, nil, nil, 0)
            }
            return PQexecParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        try check(result, connection)
        return Self.read(result)
    }

    private func check(_ result: OpaquePointer?, _ connection: OpaquePointer) throws {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK else { return }
        if PQstatus(connection) != CONNECTION_OK {
            let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(
                in: .whitespacesAndNewlines)
            close()
            throw PostgresError(kind: .unavailable, message: message.isEmpty ? "connection lost" : message)
        }
        let field = { (code: Character) -> String? in
            guard let result, let raw = PQresultErrorField(result, Int32(code.asciiValue ?? 0)) else {
                return nil
            }
            return String(cString: raw)
        }
        let message =
            result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) } ?? "unknown error"
        throw PostgresError(
            sqlState: field("C"), constraint: field("n"),
            message: message.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func read(_ result: OpaquePointer?) -> PostgresResult {
        guard let result else { return PostgresResult(rows: [], affectedRows: 0) }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(rows: rows, affectedRows: affected)
    }
}

/// Passes Swift strings to C as a `const char * const *` for the duration of `body`.
private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R
{
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return body(nil) }
        return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
            body($0)
        }
    }
}
