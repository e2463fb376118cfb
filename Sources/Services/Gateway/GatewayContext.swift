import Hummingbird

/// The gateway's request context: Hummingbird's core, and the identity of a verified bearer
/// token (set by ``BearerAuthentication`` on the routes that need one).
struct GatewayContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: Identity?

    init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Requires `Authorization: Bearer <token>` with a token the verifier accepts: a 401 problem
/// (with `WWW-Authenticate`) otherwise. Applied to the router group that holds every
/// operation whose access is ``Operation/Access/bearer``.
struct BearerAuthentication: RouterMiddleware {
    typealias Context = GatewayContext
    let verifier: TokenVerifier

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        do {
            context.identity = try await authenticate(request)
        } catch {
            return error.response(requestID: Gateway.requestID(request))
        }
        return try await next(request, context)
    }

    func authenticate(_ request: Request) async throws(Problem) -> Identity {
        guard let header = request.headers[.authorization], let token = Self.bearerToken(header) else {
            throw Problem.unauthorized("a Bearer token is required")
        }
        do {
            return try await verifier.verify(token)
        } catch {
            switch error {
            case .missing: throw Problem.unauthorized("a Bearer token is required")
            case .invalid(let reason): throw Problem.unauthorized(reason)
            }
        }
    }

    /// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive, spaces
    /// and tabs around the token ignored); `nil` for any other value. Bytes only: this runs on
    /// every request.
    static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        guard bytes.count > 7 else { return nil }
        let scheme = Array("bearer ".utf8)
        var index = bytes.startIndex
        for expected in scheme {
            let byte = bytes[index]
            // ASCII letters compare case-insensitively (bit 0x20); the space must be a space.
            guard byte == expected || (expected != 0x20 && byte | 0x20 == expected) else { return nil }
            index = bytes.index(after: index)
        }
        var end = bytes.endIndex
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        while index < end, isBlank(bytes[index]) { index = bytes.index(after: index) }
        while end > index, isBlank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        guard index < end else { return nil }
        return String(header[index..<end])
    }
}

/// Requires a verified token (``BearerAuthentication`` first) whose roles include `role`: a
/// 403 problem otherwise.
struct RequireRole: RouterMiddleware {
    typealias Context = GatewayContext
    let role: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard context.identity?.roles.contains(role) == true else {
            return Problem(status: .forbidden, detail: "the \(role) role is required").response(
                requestID: Gateway.requestID(request))
        }
        return try await next(request, context)
    }
}
