import HTTPTypes
import Hummingbird
import NATSWire
import ServiceRuntime
import Tracing

/// The server span of each HTTP request (``ProcessTracing/withSpan(_:ofKind:context:attributes:isFailure:_:)``,
/// continuing an incoming `traceparent`), under OpenTelemetry's HTTP attribute names, ended
/// when the handler returns. A request the sampler does not record gets its trace context
/// only (for the log lines and the NATS request), no span and no attributes.
///
/// Not Hummingbird's `TracingMiddleware`: that one ends its span after the body is written,
/// through a post-write closure on the body, and with such a body Hummingbird writes the
/// response head and body in two system calls instead of one — measured here, it doubled the
/// gateway's socket writes and cost more than the spans themselves. The gateway's bodies are
/// written in one piece right after the handler returns, so ending there loses nothing
/// (except on `GET /events`, whose stream outlives its span). Probes and scrapes are not
/// traced: they would bury the real requests.
struct RequestTracing<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if GatewayTracing.untracedPaths.contains(request.uri.path) { return try await next(request, context) }
        return try await ProcessTracing.withSpan(
            "HTTP \(request.method.rawValue)", ofKind: .server, continuing: Self.remoteParent(of: request),
            isFailure: { Self.status(of: $0) >= 500 }
        ) { span in
            do {
                let response = try await next(request, context)
                record(span, request, context, status: response.status.code)
                return response
            } catch {
                record(span, request, context, status: Self.status(of: error))
                throw error
            }
        }
    }

    /// The caller's trace context (`traceparent`, `tracestate`), if it sent one.
    private static func remoteParent(of request: Request) -> NATSTraceContext? {
        guard let traceparent = request.headers[GatewayTracing.traceparent] else { return nil }
        return NATSTraceContext(traceparent: traceparent, state: request.headers[GatewayTracing.tracestate])
    }

    private static func status(of error: any Error) -> Int {
        (error as? any HTTPResponseError)?.status.code ?? 500
    }

    /// The route, method, path and status, on a recorded span only.
    private func record(_ span: (any Span)?, _ request: Request, _ context: Context, status: Int) {
        guard let span else { return }
        var strings = [("http.request.method", request.method.rawValue), ("url.path", request.uri.path)]
        if let route = context.endpointPath { strings.append(("http.route", route)) }
        ProcessTracing.annotate(
            span, name: context.endpointPath.map { "\(request.method.rawValue) \($0)" }, strings,
            integers: [("http.response.status_code", status)])
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }
}

/// What ``RequestTracing`` reads, made once, not for every request.
enum GatewayTracing {
    /// Probes and scrapes: not traced.
    static let untracedPaths: Set<String> = ["/health", "/ready", "/metrics", "/metrics/services"]

    // swift-format-ignore: NeverForceUnwrap
    // Constant, valid header-name tokens: the initializer cannot fail for them.
    static let traceparent = HTTPField.Name(NATSTraceContext.traceparentHeader)!
    // swift-format-ignore: NeverForceUnwrap
    // As above.
    static let tracestate = HTTPField.Name(NATSTraceContext.tracestateHeader)!
}
