/// A failed PostgreSQL operation, classified so services can map it to a status.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The database cannot be reached now (down, restarting, connection lost).
        case unavailable
        /// A unique constraint refused the write (23505).
        case uniqueViolation
        /// A foreign key refused the write or delete (23503).
        case foreignKeyViolation
        /// A value is out of range or of the wrong form for its column (22xxx, 23502, 23514).
        case invalidValue
        /// Anything else.
        case failed
    }

    public let kind: Kind
    /// The SQLSTATE, when the server sent one.
    public let sqlState: String?
    /// The constraint involved, when the server named one.
    public let constraint: String?
    public let message: String
    /// The failure happened while opening a connection (the server is down or starting),
    /// rather than on a connection that was working.
    public var whileConnecting = false

    public init(kind: Kind, sqlState: String? = nil, constraint: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.constraint = constraint
        self.message = message
    }

    init(sqlState: String?, constraint: String?, message: String) {
        let kind: Kind
        switch sqlState {
        case "23505"?: kind = .uniqueViolation
        case "23503"?: kind = .foreignKeyViolation
        case "23502"?, "23514"?: kind = .invalidValue
        case let state? where state.hasPrefix("22"): kind = .invalidValue
        case let state? where state.hasPrefix("08") || state.hasPrefix("57P"): kind = .unavailable
        default: kind = .failed
        }
        self.init(kind: kind, sqlState: sqlState, constraint: constraint, message: message)
    }

    public var description: String { "PostgreSQL \(kind) \(sqlState ?? "-"): \(message)" }
}
