/// One result row in text format: column names and values (`nil` for SQL NULL).
public struct PostgresRow: Sendable {
    public let columns: [String]
    public let values: [String?]

    public subscript(column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return values[index]
    }

    public func int(_ column: String) -> Int? { self[column].flatMap { Int($0) } }
    public func double(_ column: String) -> Double? { self[column].flatMap { Double($0) } }
}

/// A statement's result: rows, and how many rows a write touched.
public struct PostgresResult: Sendable {
    public let rows: [PostgresRow]
    public let affectedRows: Int
}
