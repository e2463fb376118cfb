import Hummingbird

/// Hummingbird's `TracingMiddleware` (a server span per request, continuing an incoming
/// `traceparent`), except for the probes and scrapes that arrive every few seconds and would
/// bury the traces of real requests.
struct RequestTracing: RouterMiddleware {
    typealias Context = GatewayContext
    private let tracing = TracingMiddleware<GatewayContext>()
    static let untracedPaths: Set<String> = ["/health", "/ready", "/metrics", "/metrics/services"]

    func handle(
        _ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response
    ) async throws -> Response {
        if Self.untracedPaths.contains(request.uri.path) { return try await next(request, context) }
        return try await tracing.handle(request, context: context, next: next)
    }
}
