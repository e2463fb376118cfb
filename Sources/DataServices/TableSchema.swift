import Contracts
import Foundation
import NATSWire
import PostgresStore
import ServiceRuntime

/// A column as the service exposes it: the wire field's rules (`Contracts`), mapped to the
/// column of the same name. Values travel to PostgreSQL as text parameters, never in SQL.
public typealias Column = FieldRule

extension FieldRule {
    /// Checks one JSON value; returns its text form (nil for NULL) or records a problem.
    func parameter(_ value: JSONValue, errors: inout FieldErrors) -> String?? {
        switch check(value) {
        case .success(let text): return .some(text)
        case .failure(let problem):
            errors.add(name, problem.message)
            return .none
        }
    }
}

/// The columns of a table the service owns.
public struct TableSchema: Sendable {
    public let name: String
    public let columns: [Column]
    private let layouts = RowLayoutCache()

    public init(name: String, columns: [Column]) {
        self.name = name
        self.columns = columns
    }

    /// The table of a record, its columns named as the record's fields.
    public init(name: String, record: RecordRules) {
        self.init(name: name, columns: record.fields)
    }

    public func column(_ name: String) -> Column? { columns.first { $0.name == name } }

    /// The fields of `object` as column/parameter pairs, in column order. Unknown fields, bad
    /// values and missing `required` fields are recorded.
    public func parameters(
        from object: JSONObject, allowed: Set<String>, required: Set<String>, errors: inout FieldErrors
    ) -> [(column: Column, value: String?)] {
        for key in object.members.map(\.key).sorted() where !allowed.contains(key) {
            errors.add(key, column(key) == nil ? "is not a field of \(name)" : "cannot be set")
        }
        var out: [(Column, String?)] = []
        for column in columns where allowed.contains(column.name) {
            guard let value = object[column.name] else {
                if required.contains(column.name) { errors.add(column.name, "is required") }
                continue
            }
            if case .some(let parameter) = column.parameter(value, errors: &errors) {
                out.append((column, parameter))
            }
        }
        return out
    }

    /// How to write the rows of `result` as JSON objects: each column's key and kind, keys in
    /// sorted order; columns the table does not have (joined names) are text. The layout is
    /// worked out once per result shape and reused.
    public func rowWriter(for result: PostgresResultSet) -> RowWriter {
        RowWriter(result: result, layout: layouts.layout(for: result, columns: columns))
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
