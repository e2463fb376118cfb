import HTTPTypes
import Hummingbird

/// A request for a documented path with a method the path does not have: 405 with the
/// `Allow` header and a problem body (RFC 9110 §15.5.6), not the router's plain 404.
struct MethodNotAllowed<Context: RequestContext>: RouterMiddleware {
    /// Path templates (`/products/{id}`) split in segments, with their methods.
    private let templates: [(segments: [Substring], methods: Set<String>)]

    init(routes: [(method: String, path: String)]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path, default: []].insert(route.method) }
        templates = byPath.map { ($0.key.split(separator: "/"), $0.value) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        // Only a request the router has no route for can be a 405: the templates are matched
        // after a miss, never on the way to a route.
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = allowedMethods(request.uri.path), !allowed.contains(request.method.rawValue)
            else { throw error }
            var problem = Problem(
                status: .methodNotAllowed,
                detail: "\(request.method.rawValue) is not allowed on \(request.uri.path)")
            problem.headers[.allow] = allowed.sorted().joined(separator: ", ")
            return problem.response(requestID: Gateway.requestID(request))
        }
    }

    /// The methods documented for `path`; `nil` when no template matches it.
    func allowedMethods(_ path: String) -> Set<String>? {
        let segments = path.split(separator: "/")
        // Like the router, a literal segment wins over a parameter: `/customers/create` is not
        // `/customers/{id}`.
        let matching = templates.filter { Self.matches($0.segments, segments) }
        let fewestParameters = matching.map { Self.parameterCount($0.segments) }.min()
        var allowed: Set<String> = []
        for template in matching where Self.parameterCount(template.segments) == fewestParameters {
            allowed.formUnion(template.methods)
        }
        return allowed.isEmpty ? nil : allowed
    }

    private static func parameterCount(_ template: [Substring]) -> Int {
        template.filter { $0.hasPrefix("{") }.count
    }

    private static func matches(_ template: [Substring], _ path: [Substring]) -> Bool {
        guard template.count == path.count else { return false }
        return zip(template, path).allSatisfy { pattern, segment in
            pattern.hasPrefix("{") || pattern == segment
        }
    }
}
