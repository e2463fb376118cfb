import Contracts
import NATSWire
import PostgresStore
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

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

    /// A list request, decoded once with the subject's options; a 400 naming every wrong field.
    public static func list(_ payload: [UInt8], _ options: ListOptions) throws -> ListRequest {
        do {
            return try options.decode(try object(payload).members)
        } catch let problems as ListRequestProblems {
            var errors = FieldErrors()
            for problem in problems.fields { errors.add(problem.field, problem.message) }
            try errors.throwIfAny()
            throw problems
        }
    }

    /// A list reply: `{data, limit, page, pages, total}` with the rows written in place.
    public static func page(_ rows: RowWriter, total: Int, page: ListRequest) -> [UInt8] {
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

/// `%` and `_` in a search term match themselves.
public func likePattern(_ term: String) -> String {
    "%"
        + term.replacing("\\", with: "\\\\").replacing("%", with: "\\%")
        .replacing("_", with: "\\_") + "%"
}

/// `ORDER BY` of a list: the requested field (checked against the record's sortable fields
/// when the request was decoded, never free text) or `key`, and the direction.
public func orderBy(_ request: ListRequest, key: String) -> String {
    "\(request.sort ?? key) \(request.descending ? "DESC" : "ASC")"
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
