/// One option of a list request (`page`, `sort`, a filter): its name and what it takes. The
/// gateway checks URL query text with it, the services the JSON they receive, and the OpenAPI
/// document describes it: one rule in one place.
public struct ListOption: Sendable {
    public enum Kind: Sendable {
        case integer(ClosedRange<Int>)
        case string
        case oneOf([String])
        case boolean
    }

    public let name: String
    public let kind: Kind

    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// The value in its own JSON type, or what is wrong with it. Numbers and booleans may
    /// also come as text (`"20"`, `"true"`), as a URL query and the original gateway give them.
    public func check(_ value: JSONValue) -> Result<JSONValue, FieldProblem> {
        switch kind {
        case .integer(let range):
            guard let number = value.integer ?? value.string.flatMap({ Int($0) }), range.contains(number)
            else {
                return .failure(
                    FieldProblem("must be an integer from \(range.lowerBound) to \(range.upperBound)"))
            }
            return .success(.number(String(number)))
        case .string:
            guard case .string = value else { return .failure(FieldProblem("must be a string")) }
            return .success(value)
        case .oneOf(let values):
            guard let text = value.string, values.contains(text) else {
                return .failure(FieldProblem("must be one of \(values.joined(separator: ", "))"))
            }
            return .success(value)
        case .boolean:
            switch value {
            case .bool: return .success(value)
            case .number("1"): return .success(.bool(true))
            case .number("0"): return .success(.bool(false))
            case .string(let text):
                switch text.lowercased() {
                case "true", "1": return .success(.bool(true))
                case "false", "0": return .success(.bool(false))
                default: break
                }
            default: break
            }
            return .failure(FieldProblem("must be true or false"))
        }
    }

    /// The option as a JSON Schema, for the OpenAPI document.
    public var jsonSchema: JSONValue {
        switch kind {
        case .integer(let range):
            return .object([
                ("type", .string("integer")), ("minimum", .number(String(range.lowerBound))),
                ("maximum", .number(String(range.upperBound))),
            ])
        case .string: return .object([("type", .string("string"))])
        case .oneOf(let values):
            return .object([("type", .string("string")), ("enum", .array(values.map(JSONValue.string)))])
        case .boolean: return .object([("type", .string("boolean"))])
        }
    }
}

/// A list request, decoded once: the page, the search, the order and the filters.
public struct ListRequest: Sendable, Equatable {
    public var page = 1
    public var limit = ListOptions.defaultLimit
    /// `nil` when absent or empty.
    public var search: String?
    /// A sortable field; `nil` for the record's key.
    public var sort: String?
    public var descending = false
    /// The filters given, checked, in their JSON types.
    public var filters: [String: JSONValue] = [:]

    public init() {}

    public var offset: Int { (page - 1) * limit }
}

/// What is wrong with a list request, field by field.
public struct ListRequestProblems: Error, Sendable {
    public let fields: [(field: String, message: String)]
}

/// The options a list subject takes: paging, search and sorting of a record, and filters.
public struct ListOptions: Sendable {
    public static let defaultLimit = 20
    public static let maxLimit = 100
    public static let maxPage = 1_000_000

    public let options: [ListOption]

    public init(_ record: RecordRules, filters: [ListOption] = []) {
        options =
            [
                ListOption("page", .integer(1...Self.maxPage)),
                ListOption("limit", .integer(1...Self.maxLimit)),
                ListOption("search", .string),
                ListOption("sort", .oneOf(record.sortable)),
                ListOption("order", .oneOf(["asc", "desc", "ASC", "DESC"])),
            ] + filters
    }

    public func option(_ name: String) -> ListOption? { options.first { $0.name == name } }

    /// The request; throws every field that is wrong (unknown options included), in order.
    public func decode(_ members: [(key: String, value: JSONValue)]) throws(ListRequestProblems)
        -> ListRequest
    {
        var request = ListRequest()
        var errors: [(field: String, message: String)] = []
        for (key, given) in members {
            guard let option = option(key) else {
                errors.append((key, "is not a list option"))
                continue
            }
            let value: JSONValue
            switch option.check(given) {
            case .success(let checked): value = checked
            case .failure(let problem):
                errors.append((key, problem.message))
                continue
            }
            switch key {
            case "page": request.page = value.integer ?? request.page
            case "limit": request.limit = value.integer ?? request.limit
            case "search": request.search = value.string.flatMap { $0.isEmpty ? nil : $0 }
            case "sort": request.sort = value.string
            case "order": request.descending = value.string?.lowercased() == "desc"
            default: request.filters[key] = value
            }
        }
        guard errors.isEmpty else { throw ListRequestProblems(fields: errors) }
        return request
    }

    public static let customers = ListOptions(Records.customer)
    public static let products = ListOptions(
        Records.product,
        filters: [
            ListOption("category_id", .integer(0...32767)),
            ListOption("supplier_id", .integer(0...32767)),
            ListOption("discontinued", .boolean),
        ])
}
