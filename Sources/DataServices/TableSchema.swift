import Contracts
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
    func parameter(_ value: JSONValue, errors: inout FieldErrors) -> String?? {
        if value.isNull {
            guard nullable else {
                errors.add(name, "must not be null")
                return .none
            }
            return .some(nil)
        }
        switch kind {
        case .text(let maxLength):
            guard let text = value.string else {
                errors.add(name, "must be a string")
                return .none
            }
            // Code points, as PostgreSQL's varchar(n) and JSON Schema's maxLength count them.
            if let maxLength, text.unicodeScalars.count > maxLength {
                errors.add(name, "must be at most \(maxLength) characters")
                return .none
            }
            if text.utf8.contains(0) {
                errors.add(name, "must not contain NUL characters")
                return .none
            }
            return .some(text)
        case .smallint(let min):
            guard let number = value.integer, number >= min, number <= 32767 else {
                errors.add(name, "must be an integer from \(min) to 32767")
                return .none
            }
            return .some(String(number))
        case .integer:
            guard let number = value.integer, number >= Int(Int32.min), number <= Int(Int32.max) else {
                errors.add(name, "must be an integer")
                return .none
            }
            return .some(String(number))
        case .real(let min):
            guard let double = value.double, double.isFinite, double >= min, double <= 3.4e38 else {
                errors.add(name, "must be a number ≥ \(min)")
                return .none
            }
            // PostgreSQL's real is a float4: what a float4 cannot hold (1e-67) is stored as the
            // float4 it rounds to instead of failing with "out of range".
            return .some(String(Float(double)))
        case .flag:
            if let flag = value.bool { return .some(flag ? "1" : "0") }
            if let number = value.double, number == 0 || number == 1 { return .some(number == 1 ? "1" : "0") }
            errors.add(name, "must be true/false or 0/1")
            return .none
        }
    }

    /// Writes a value of this column, read in place from libpq's text form, as JSON.
    func writeJSON(_ text: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        switch kind {
        case .text: JSONOutput.string(bytes: text, into: &out)
        case .smallint, .integer: out.append(contentsOf: text)
        case .real:
            // PostgreSQL writes a float4 in its shortest exact form ("18", "1e+10"); only
            // NaN and infinities have no JSON form.
            let number = Double(String(decoding: text, as: UTF8.self))
            if let number, number.isFinite {
                out.append(contentsOf: JSONOutput.number(number).utf8)
            } else {
                out.append(contentsOf: JSONOutput.null)
            }
        case .flag:
            out.append(
                contentsOf: text.count == 1 && text[0] == UInt8(ascii: "1")
                    ? JSONOutput.true : JSONOutput.false)
        }
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
        from object: JSONObject, allowed: Set<String>, requireNonNullable: Bool, errors: inout FieldErrors
    ) -> [(column: Column, value: String?)] {
        for key in object.members.map(\.key).sorted() where !allowed.contains(key) {
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

    /// How to write the rows of `result` as JSON objects: each column's key and kind, keys in
    /// sorted order; columns the table does not have (joined names) are text.
    public func rowWriter(for result: PostgresResultSet) -> RowWriter {
        let fields = (0..<result.columnCount).map { index -> RowWriter.Field in
            let name = result.columnName(index)
            var key: [UInt8] = []
            JSONOutput.string(name, into: &key)
            key.append(UInt8(ascii: ":"))
            return RowWriter.Field(
                index: index, name: name, key: key,
                column: column(name) ?? Column(name, .text(maxLength: nil)))
        }
        return RowWriter(result: result, fields: fields.sorted { $0.name < $1.name })
    }
}

/// Writes result rows straight from libpq's buffers to JSON: no dictionary, no `String` per
/// value.
public struct RowWriter {
    struct Field {
        let index: Int
        let name: String
        let key: [UInt8]
        let column: Column
    }

    let result: PostgresResultSet
    let fields: [Field]

    public var count: Int { result.rowCount }

    /// Row `row` as a JSON object.
    public func write(_ row: Int, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (position, field) in fields.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: field.key)
            if result.isNull(row, field.index) {
                out.append(contentsOf: JSONOutput.null)
            } else {
                result.withValue(row, field.index) { field.column.writeJSON($0, into: &out) }
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Every row as a JSON array.
    public func writeAll(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for row in 0..<count {
            if row > 0 { out.append(UInt8(ascii: ",")) }
            write(row, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The first row as a JSON object; `nil` when there is none.
    public var first: [UInt8]? {
        guard count > 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(320)
        write(0, into: &out)
        return out
    }
}

/// A request's JSON object, parsed once from the payload.
public struct JSONObject: Sendable {
    public let members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) { self.members = members }

    public subscript(key: String) -> JSONValue? { members.first { $0.key == key }?.value }

    /// The object without `key`.
    public func removing(_ key: String) -> JSONObject { JSONObject(members.filter { $0.key != key }) }

    /// The object with `key` set to `value` when it is absent.
    public func defaulting(_ key: String, to value: JSONValue) -> JSONObject {
        self[key] == nil ? JSONObject(members + [(key, value)]) : self
    }
}

/// JSON in and out of the data services.
public enum JSONBody {
    /// The request as an object; a 400 if it is not one. An empty payload is `{}`.
    public static func object(_ payload: [UInt8]) throws -> JSONObject {
        if payload.isEmpty { return JSONObject() }
        guard case .object(let members)? = try? JSONValue.parse(payload) else {
            throw ServiceError(code: 400, message: "body: must be a JSON object")
        }
        return JSONObject(members)
    }

    /// A list reply: `{data, limit, page, pages, total}` with the rows written in place.
    public static func page(_ rows: RowWriter, total: Int, page: Page) -> [UInt8] {
        var out = Array(#"{"data":"#.utf8)
        out.reserveCapacity(rows.count * 300 + 80)
        rows.writeAll(into: &out)
        let pages = total == 0 ? 0 : (total + page.limit - 1) / page.limit
        out.append(
            contentsOf: #","limit":\#(page.limit),"page":\#(page.page),"pages":\#(pages),"total":\#(total)}"#
                .utf8)
        return out
    }
}

/// Page and limit of a list request, with the original system's defaults.
public struct Page: Sendable {
    public let page: Int
    public let limit: Int
    public var offset: Int { (page - 1) * limit }

    public init(_ object: JSONObject, defaultLimit: Int = 20, maxLimit: Int = 100, errors: inout FieldErrors)
    {
        func number(_ key: String, _ fallback: Int) -> Int? {
            guard let raw = object[key] else { return fallback }
            if let n = raw.integer { return n }
            if let text = raw.string, let n = Int(text) { return n }
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
}

/// `%` and `_` in a search term match themselves.
public func likePattern(_ term: String) -> String {
    "%"
        + term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
        .replacingOccurrences(of: "_", with: "\\_") + "%"
}

/// Sort column and direction from an allow-list, never from free text.
public func orderBy(
    _ object: JSONObject, allowed: [String], default fallback: String, errors: inout FieldErrors
)
    -> String
{
    var column = fallback
    if let requested = object["sort"] {
        if let text = requested.string, allowed.contains(text) {
            column = text
        } else {
            errors.add("sort", "must be one of \(allowed.joined(separator: ", "))")
        }
    }
    var direction = "ASC"
    if let order = object["order"] {
        switch order.string {
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
