import Foundation
import NATSWire
import PostgresStore
import ServiceRuntime

/// A column as the service exposes it: name as in the database (snake_case), type, and
/// whether it may be NULL. Values travel to PostgreSQL as text parameters, never in SQL.
public struct Column: Sendable {
    public enum Kind: Sendable {
        case text(maxLength: Int?)
        case smallint(min: Int)
        case integer
        case real(min: Double)
        /// Northwind's `discontinued integer`: 0 or 1, accepted as a boolean too.
        case flag
    }

    public let name: String
    public let kind: Kind
    public let nullable: Bool

    public init(_ name: String, _ kind: Kind, nullable: Bool = true) {
        self.name = name
        self.kind = kind
        self.nullable = nullable
    }

    /// Checks one JSON value; returns its text form (nil for NULL) or records a problem.
    func parameter(_ value: Any, errors: inout FieldErrors) -> String?? {
        if value is NSNull {
            guard nullable else {
                errors.add(name, "must not be null")
                return .none
            }
            return .some(nil)
        }
        switch kind {
        case .text(let maxLength):
            guard let text = value as? String else {
                errors.add(name, "must be a string")
                return .none
            }
            // Code points, as PostgreSQL's varchar(n) and JSON Schema's maxLength count them.
            if let maxLength, text.unicodeScalars.count > maxLength {
                errors.add(name, "must be at most \(maxLength) characters")
                return .none
            }
            if text.unicodeScalars.contains(where: { $0.value == 0 }) {
                errors.add(name, "must not contain NUL characters")
                return .none
            }
            return .some(text)
        case .smallint(let min):
            guard let number = Self.integer(value), number >= min, number <= 32767 else {
                errors.add(name, "must be an integer from \(min) to 32767")
                return .none
            }
            return .some(String(number))
        case .integer:
            guard let number = Self.integer(value), number >= Int(Int32.min), number <= Int(Int32.max) else {
                errors.add(name, "must be an integer")
                return .none
            }
            return .some(String(number))
        case .real(let min):
            guard let number = value as? NSNumber, !Self.isBool(number), let double = number.exactDouble,
                double.isFinite, double >= min, double <= 3.4e38
            else {
                errors.add(name, "must be a number ≥ \(min)")
                return .none
            }
            // PostgreSQL's real is a float4: what a float4 cannot hold (1e-67) is stored as the
            // float4 it rounds to instead of failing with "out of range".
            return .some(String(Float(double)))
        case .flag:
            if let number = value as? NSNumber {
                if Self.isBool(number) { return .some(number.boolValue ? "1" : "0") }
                if number.doubleValue == 0 || number.doubleValue == 1 {
                    return .some(number.intValue == 1 ? "1" : "0")
                }
            }
            errors.add(name, "must be true/false or 0/1")
            return .none
        }
    }

    /// The JSON value of a text result.
    func json(_ text: String?) -> Any {
        guard let text else { return NSNull() }
        switch kind {
        case .text: return text
        case .smallint, .integer: return Int(text) ?? NSNull()
        case .real: return Double(text) ?? NSNull()
        case .flag: return text == "1"
        }
    }

    /// JSON `true`/`false` arrive as NSNumber of type char.
    private static func isBool(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !isBool(number), let double = number.exactDouble else {
            return nil
        }
        guard double.isFinite, double.rounded() == double, abs(double) < 9e15 else { return nil }
        return Int(double)
    }
}

/// The columns of a table the service owns.
public struct TableSchema: Sendable {
    public let name: String
    public let columns: [Column]

    public init(name: String, columns: [Column]) {
        self.name = name
        self.columns = columns
    }

    public func column(_ name: String) -> Column? { columns.first { $0.name == name } }

    /// The fields of `object` as column/parameter pairs, in column order. Unknown fields and
    /// bad values are recorded; with `requireNonNullable`, a missing NOT NULL column too.
    public func parameters(
        from object: [String: Any], allowed: Set<String>, requireNonNullable: Bool, errors: inout FieldErrors
    ) -> [(column: Column, value: String?)] {
        for key in object.keys.sorted() where !allowed.contains(key) {
            errors.add(key, column(key) == nil ? "is not a field of \(name)" : "cannot be set")
        }
        var out: [(Column, String?)] = []
        for column in columns where allowed.contains(column.name) {
            guard let value = object[column.name] else {
                if requireNonNullable && !column.nullable { errors.add(column.name, "is required") }
                continue
            }
            if case .some(let parameter) = column.parameter(value, errors: &errors) {
                out.append((column, parameter))
            }
        }
        return out
    }

    /// A result row as a JSON object, typed by the schema; extra columns (joined names) as text.
    public func json(_ row: PostgresRow) -> [String: Any] {
        var object: [String: Any] = [:]
        for (index, name) in row.columns.enumerated() {
            let value = row.values[index]
            object[name] = column(name)?.json(value) ?? (value.map { $0 as Any } ?? NSNull())
        }
        return object
    }
}

/// JSON in and out of the data services.
public enum JSONBody {
    /// The request as an object; a 400 if it is not one.
    public static func object(_ payload: [UInt8]) throws -> [String: Any] {
        if payload.isEmpty { return [:] }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] else {
            throw ServiceError(code: 400, message: "body: must be a JSON object")
        }
        return object
    }

    public static func encode(_ value: Any) throws -> [UInt8] {
        do {
            return try JSONWriter.bytes(value)
        } catch {
            throw ServiceError(code: 500, message: "cannot encode the reply")
        }
    }
}

/// Page and limit of a list request, with the original system's defaults.
public struct Page: Sendable {
    public let page: Int
    public let limit: Int
    public var offset: Int { (page - 1) * limit }

    public init(
        _ object: [String: Any], defaultLimit: Int = 20, maxLimit: Int = 100, errors: inout FieldErrors
    ) {
        func number(_ key: String, _ fallback: Int) -> Int? {
            guard let raw = object[key] else { return fallback }
            if let n = raw as? Int { return n }
            if let text = raw as? String, let n = Int(text) { return n }
            return nil
        }
        let page = number("page", 1)
        let limit = number("limit", defaultLimit)
        if !(1...1_000_000).contains(page ?? 0) { errors.add("page", "must be an integer from 1 to 1000000") }
        if !(1...maxLimit).contains(limit ?? 0) {
            errors.add("limit", "must be an integer from 1 to \(maxLimit)")
        }
        self.page = max(1, min(page ?? 1, 1_000_000))
        self.limit = max(1, min(limit ?? defaultLimit, maxLimit))
    }

    /// `{data, total, page, limit, pages}`.
    public func envelope(_ data: [[String: Any]], total: Int) -> [String: Any] {
        [
            "data": data, "total": total, "page": page, "limit": limit,
            "pages": total == 0 ? 0 : (total + limit - 1) / limit,
        ]
    }
}

/// `%` and `_` in a search term match themselves.
public func likePattern(_ term: String) -> String {
    "%"
        + term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
        .replacingOccurrences(of: "_", with: "\\_") + "%"
}

/// Sort column and direction from an allow-list, never from free text.
public func orderBy(
    _ object: [String: Any], allowed: [String], default fallback: String, errors: inout FieldErrors
)
    -> String
{
    var column = fallback
    if let requested = object["sort"] {
        if let text = requested as? String, allowed.contains(text) {
            column = text
        } else {
            errors.add("sort", "must be one of \(allowed.joined(separator: ", "))")
        }
    }
    var direction = "ASC"
    if let order = object["order"] {
        switch order as? String {
        case "asc"?, "ASC"?: direction = "ASC"
        case "desc"?, "DESC"?: direction = "DESC"
        default: errors.add("order", "must be asc or desc")
        }
    }
    return "\(column) \(direction)"
}

extension PostgresError: ServiceErrorConvertible {
    /// The service error a caller sees (ServiceApp maps it): 503 while the database is
    /// unavailable.
    public var serviceError: ServiceError {
        switch kind {
        case .unavailable: return ServiceError(code: 503, message: "database unavailable")
        case .uniqueViolation: return ServiceError(code: 409, message: "already exists")
        case .foreignKeyViolation: return ServiceError(code: 409, message: "referenced by other records")
        case .invalidValue: return ServiceError(code: 400, message: message)
        case .failed: return ServiceError(code: 500, message: "database error")
        }
    }
}
