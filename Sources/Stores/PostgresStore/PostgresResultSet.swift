import CPostgres

/// A statement's result as libpq holds it: values are read in place, so a caller that writes
/// rows straight to JSON never makes a `String` of them.
public final class PostgresResultSet: @unchecked Sendable {
    // @unchecked Sendable: the PGresult is never modified after libpq hands it over, and
    // libpq's result accessors only read it; it is freed once, in deinit.
    private let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }

    deinit { PQclear(result) }

    public var rowCount: Int { Int(PQntuples(result)) }
    public var columnCount: Int { Int(PQnfields(result)) }

    public func columnName(_ column: Int) -> String { String(cString: PQfname(result, Int32(column))) }

    public func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(result, Int32(row), Int32(column)) == 1
    }

    /// Whether column `column` is named `name` (UTF-8), without making a `String`.
    public func columnName(_ column: Int, is name: [UInt8]) -> Bool {
        guard let field = PQfname(result, Int32(column)) else { return false }
        return name.withUnsafeBufferPointer { name in
            var index = 0
            while index < name.count {
                guard UInt8(bitPattern: field[index]) == name[index] else { return false }
                index += 1
            }
            return field[index] == 0
        }
    }

    /// The text of a value in libpq's buffer, `nil` for NULL. The bytes live as long as this
    /// result set: keep it alive (`withExtendedLifetime`) while reading them.
    public func bytes(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8>? {
        let row = Int32(row)
        let column = Int32(column)
        guard PQgetisnull(result, row, column) == 0, let pointer = PQgetvalue(result, row, column) else {
            return nil
        }
        let length = Int(PQgetlength(result, row, column))
        return UnsafeBufferPointer(
            start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
    }

    /// The text of a value, in place (empty for NULL); valid only inside `body`.
    public func withValue<R>(_ row: Int, _ column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R)
        rethrows -> R
    {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let pointer = PQgetvalue(result, Int32(row), Int32(column)) else {
            return try body(UnsafeBufferPointer(start: nil, count: 0))
        }
        return try pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            try body(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The text of a value; `nil` for NULL.
    public func string(_ row: Int, _ column: Int) -> String? {
        if isNull(row, column) { return nil }
        return withValue(row, column) { String(decoding: $0, as: UTF8.self) }
    }

    /// An integer value; `nil` for NULL or text that is not one.
    public func int(_ row: Int, _ column: Int) -> Int? {
        if isNull(row, column) { return nil }
        return withValue(row, column) { bytes in
            var value = 0
            var negative = false
            for (index, byte) in bytes.enumerated() {
                if index == 0 && byte == UInt8(ascii: "-") {
                    negative = true
                    continue
                }
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                value = shifted + Int(byte - UInt8(ascii: "0"))
            }
            return negative ? -value : value
        }
    }

    /// Rows a write touched (`INSERT`, `UPDATE`, `DELETE`).
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    /// Every row with its values as strings.
    public var rows: [PostgresRow] {
        let columns = (0..<columnCount).map(columnName)
        return (0..<rowCount).map { row in
            PostgresRow(columns: columns, values: (0..<columns.count).map { string(row, $0) })
        }
    }
}
