import Contracts
import HTTPTypes
import Hummingbird
import NATSWire
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How an operation calls the original NestJS/Go service when that service's upstream is
/// `nest`: the `data` it sends and how the `response` becomes our HTTP response, following
/// ``OriginalPayloads``. Our routes keep their shapes; operations the original services do not
/// offer answer 501.
enum OriginalCall: Sendable {
    case register, login
    case listCustomers, getCustomer, createCustomer, updateCustomer
    case listProducts, getProduct, createProduct, updateProduct
}

extension Gateway {
    /// Runs one operation against the original service behind `subject`.
    func handleOriginal(
        _ request: Request, _ context: GatewayContext, call: OriginalCall, subject: String,
        status: HTTPResponse.Status
    ) async -> Response {
        let requestID = Self.requestID(request)
        do {
            switch call {
            case .register:
                let answer = try await authAnswer(
                    try await jsonBody(request, schema: API.register).bytes, subject, requestID)
                guard answer.context else { throw Problem.original(answer.message) }
                return Self.json(
                    JSONValue.object([("message", .string(answer.message))]).json, status: status,
                    requestID: requestID)
            case .login:
                let answer = try await authAnswer(
                    try await jsonBody(request, schema: API.login).bytes, subject, requestID)
                guard answer.context else { throw Problem.unauthorized(answer.message) }
                return Self.json(Self.tokenResponse(answer.message), status: status, requestID: requestID)
            case .listCustomers:
                let query = try Self.query(request, API.customersQuery)
                let page = try Self.listRequest(query, ListOptions.customers)
                let customers = try await callOriginal(subject, Self.emptyData, requestID)
                guard let page = Self.customersPage(customers, page) else {
                    throw Problem.originalAnswer("an array of customers")
                }
                return Self.json(page, status: status, requestID: requestID)
            case .getCustomer, .getProduct:
                let key = call == .getCustomer ? API.customerKey : API.productKey
                let id = try Self.key(key, context)
                let found = try await callOriginal(subject, id.json, requestID)
                return try Self.record(
                    found, missing: Self.describe(key, id), status: status, requestID: requestID)
            case .createCustomer, .createProduct:
                let schema = call == .createCustomer ? API.customerCreate : API.productCreate
                let body = try await jsonBody(request, schema: schema)
                let created = try await callOriginal(subject, body.bytes, requestID)
                return try Self.record(created, missing: nil, status: status, requestID: requestID)
            case .updateCustomer:
                let id = try Self.key(API.customerKey, context)
                let body = try await jsonBody(request, schema: API.customerUpdate)
                let data = OriginalPayloads.CustomerUpdate(
                    id: id.string ?? "", customer: .object(body.members))
                let updated = try await callOriginal(subject, data.json, requestID)
                return try Self.record(
                    updated, missing: Self.describe(API.customerKey, id), status: status, requestID: requestID
                )
            case .listProducts:
                let query = try Self.query(request, API.productsQuery)
                let page = try Self.listRequest(query, ListOptions.products)
                let unsupported = Self.optionsBeyondPaging(query)
                guard unsupported.isEmpty else {
                    throw Problem(
                        status: .notImplemented,
                        detail: "the original products service pages only (page, limit)",
                        errors: Dictionary(
                            uniqueKeysWithValues: unsupported.map { ($0, "is not supported upstream") }))
                }
                let data = JSONValue.object([
                    ("page", .number(String(page.page))), ("limit", .number(String(page.limit))),
                ])
                // Passed on as it came (the reply was checked as JSON when it was read).
                let list = try await callOriginal(subject, data.json, requestID)
                guard list.first == UInt8(ascii: "{") else {
                    throw Problem.originalAnswer("a page of products")
                }
                return Self.json(list, status: status, requestID: requestID)
            case .updateProduct:
                let id = try Self.key(API.productKey, context)
                let body = try await jsonBody(request, schema: API.productUpdate)
                let data = OriginalPayloads.ProductUpdate(id: id.integer ?? 0, changes: .object(body.members))
                guard
                    let result = (try? JSONValue.parse(try await callOriginal(subject, data.json, requestID)))
                        .flatMap(OriginalPayloads.UpdateResult.init)
                else { throw Problem.originalAnswer("an update result") }
                let missing = Self.describe(API.productKey, id)
                guard result.affected > 0 else {
                    throw Problem(status: .notFound, detail: "\(missing) not found")
                }
                // The original answers with a count; our route answers with the product.
                let product = try await callOriginal(ProductsSubject.get, id.json, requestID)
                return try Self.record(product, missing: missing, status: status, requestID: requestID)
            }
        } catch {
            return error.response(requestID: requestID)
        }
    }

    /// An operation the original service has no counterpart for.
    static func notOffered(_ service: String) -> @Sendable (Request, GatewayContext) async -> Response {
        { request, _ in
            Problem(
                status: .notImplemented,
                detail:
                    "the original \(service) service (UPSTREAM_\(service.uppercased())=nest) does not offer this"
            ).response(requestID: requestID(request))
        }
    }

    /// One NestJS request: the envelope around `data`, the JSON of its `response` back; its
    /// `err` is a problem.
    func callOriginal(_ subject: String, _ data: [UInt8], _ requestID: String) async throws(Problem)
        -> [UInt8]
    {
        let reply = try await send(
            NestCall.request(pattern: subject, data: data, id: requestID), to: subject, requestID: requestID)
        switch NestCall.Answer(reply.payload) {
        case .response(let response)?: return response
        case .failure(let err)?:
            let status = (err["statusCode"] ?? err["status"])?.integer.flatMap {
                (400...499).contains($0) ? $0 : nil
            }
            throw Problem(
                status: status.map(Self.status(for:)) ?? .badGateway,
                detail: "the original service failed: \(NestCall.message(of: err))")
        case nil: throw Problem.originalAnswer("a NestJS reply")
        }
    }

    private func authAnswer(_ data: [UInt8], _ subject: String, _ requestID: String) async throws(Problem)
        -> OriginalPayloads.AuthAnswer
    {
        guard
            let answer = (try? JSONValue.parse(try await callOriginal(subject, data, requestID)))
                .flatMap(OriginalPayloads.AuthAnswer.init)
        else { throw Problem.originalAnswer(#"{"message", "context"}"#) }
        return answer
    }

    /// `data` of a call that takes none: the original gateway sends an empty string.
    static let emptyData = Array(#""""#.utf8)

    /// A record, passed on as it came; 404 for `null` (naming `missing`); the original's
    /// `{"error": text}` is a problem.
    private static func record(
        _ response: [UInt8], missing: String?, status: HTTPResponse.Status, requestID: String
    ) throws(Problem) -> Response {
        if let message = OriginalPayloads.errorMessage(response) { throw Problem.original(message) }
        switch response.first {
        case UInt8(ascii: "{"): return json(response, status: status, requestID: requestID)
        case UInt8(ascii: "n"):
            guard let missing else { throw Problem.originalAnswer("a record") }
            throw Problem(status: .notFound, detail: "\(missing) not found")
        default: throw Problem.originalAnswer("a record")
        }
    }

    /// `customer ALFKI`, `product 7`.
    private static func describe(_ key: Operation.Key, _ id: JSONValue) -> String {
        let noun = key.field.replacing("_id", with: "")
        return "\(noun) \(id.string ?? id.integer.map(String.init) ?? "")"
    }

    /// The login response from the original's token: ours has no refresh token then.
    static func tokenResponse(_ token: String) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = [
            ("access_token", .string(token)), ("token_type", .string("Bearer")),
        ]
        if let expires = expiry(of: token) {
            members.append(("expires_in", .number(String(max(0, Int(expires.timeIntervalSinceNow))))))
        }
        return JSONValue.object(members).json
    }

    /// The `exp` of a JWT, read without verifying (the token is only passed on here).
    static func expiry(of token: String) -> Date? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var base64 = String(parts[1]).replacing("-", with: "+").replacing("_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let exp = (try? JSONValue.parse(Array(data)))?["exp"]?.double
        else { return nil }
        return Date(timeIntervalSince1970: exp)
    }

    private static func listRequest(_ query: JSONValue, _ options: ListOptions) throws(Problem) -> ListRequest
    {
        guard case .object(let members) = query, let request = try? options.decode(members) else {
            throw Problem(status: .badRequest, detail: "invalid list query")
        }
        return request
    }

    private static func optionsBeyondPaging(_ query: JSONValue) -> [String] {
        guard case .object(let members) = query else { return [] }
        return members.map(\.key).filter { $0 != "page" && $0 != "limit" }
    }

    /// Our page of customers from the original's whole list: the same search (company or
    /// contact name, case-insensitive), order (nulls last, then by id) and paging as the
    /// CustomersService's. Only the fields compared are decoded; the rows of the page are the
    /// bytes the original sent. `nil` when the list is not an array of objects.
    static func customersPage(_ list: [UInt8], _ request: ListRequest) -> [UInt8]? {
        guard let objects = try? JSONObjectScanner.objects(inArray: list) else { return nil }
        func text(_ members: JSONObjectScanner.Members, _ key: String) -> String? {
            guard let range = members.first(where: { $0.key == key })?.value else { return nil }
            return (try? JSONValue.parse(list[range]))?.string
        }
        let field = request.sort ?? "customer_id"
        var rows = objects.map {
            (range: $0.range, id: text($0.members, "customer_id") ?? "", members: $0.members)
        }
        if let term = request.search?.lowercased() {
            rows = rows.filter { row in
                ["company_name", "contact_name"].contains {
                    text(row.members, $0)?.lowercased().contains(term) == true
                }
            }
        }
        let keyed = rows.map { (row: $0, key: field == "customer_id" ? $0.id : text($0.members, field)) }
        let sorted = keyed.sorted { left, right in
            if left.key != right.key {
                guard let a = left.key else { return false }
                guard let b = right.key else { return true }
                return request.descending ? a > b : a < b
            }
            return left.row.id < right.row.id
        }
        let total = sorted.count
        let pages = total == 0 ? 0 : (total + request.limit - 1) / request.limit
        var out = Array(#"{"data":["#.utf8)
        for (index, entry) in sorted.dropFirst(min(request.offset, total)).prefix(request.limit).enumerated()
        {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: list[entry.row.range])
        }
        out.append(
            contentsOf:
                #"],"limit":\#(request.limit),"page":\#(request.page),"pages":\#(pages),"total":\#(total)}"#
                .utf8)
        return out
    }

    /// Ready when the original service behind `subject` answers anything: a NestJS request
    /// for a pattern no handler has, which NestJS answers with an error and nothing executes.
    func originalAnswers(_ subject: String) async -> Bool {
        let probe = NestCall.request(pattern: "natswire.ready", data: [], id: NUID.generate())
        return (try? await nats.request(probe, to: subject, timeout: .seconds(1))) != nil
    }
}

extension Problem {
    /// The original services' failures are words: a conflict when they say a record exists,
    /// a 404 when they say it is missing, a 400 otherwise.
    static func original(_ message: String) -> Problem {
        let text = message.lowercased()
        if text.contains("exist") || text.contains("duplicate") {
            return Problem(status: .conflict, detail: message)
        }
        if text.contains("not found") { return Problem(status: .notFound, detail: message) }
        return Problem(status: .badRequest, detail: message)
    }

    static func originalAnswer(_ expected: String) -> Problem {
        Problem(
            status: .badGateway, detail: "the original service answered with something other than \(expected)"
        )
    }
}
