import HTTPTypes
import Hummingbird
import Instrumentation
import ServiceContextModule
import ServiceRuntime
import Tracing

/// The server span of each HTTP request (through swift-distributed-tracing, continuing an
/// incoming `traceparent`), under OpenTelemetry's HTTP attribute names, ended when the
/// handler returns.
///
/// Not Hummingbird's `TracingMiddleware`: that one ends its span after the body is written,
/// through a post-write closure on the body, and with such a body Hummingbird writes the
/// response head and body in two system calls instead of one — measured here, it doubled the
/// gateway's socket writes and cost more than the spans themselves. The gateway's bodies are
/// written in one piece right after the handler returns, so ending there loses nothing
/// (except on `GET /events`, whose stream outlives its span). Probes and scrapes are not
/// traced: they would bury the real requests.
struct RequestTracing<Context: RequestContext>: RouterMiddleware {
    static var untracedPaths: Set<String> { ["/health", "/ready", "/metrics", "/metrics/services"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if Self.untracedPaths.contains(request.uri.path) { return try await next(request, context) }
        var parent = ServiceContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let span = InstrumentationSystem.tracer.startAnySpan(
            "HTTP \(request.method.rawValue)", context: parent, ofKind: .server)
        defer { span.end() }
        do {
            let response = try await ServiceContext.withValue(span.context) {
                try await next(request, context)
            }
            record(span, request, context, status: response.status.code)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(span, request, context, status: status)
            if status >= 500 {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error))
            }
            throw error
        }
    }

    private func record(_ span: any Span, _ request: Request, _ context: Context, status: Int) {
        if let route = context.endpointPath { span.operationName = "\(request.method.rawValue) \(route)" }
        span.updateAttributes { attributes in
            attributes["http.request.method"] = request.method.rawValue
            attributes["url.path"] = request.uri.path
            attributes["http.route"] = context.endpointPath
            attributes["http.response.status_code"] = status
        }
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }
}

/// HTTP request headers as a propagation carrier.
struct HTTPFieldsExtractor: Extractor {
    // swift-format-ignore: NeverForceUnwrap
    // Constant, valid header-name tokens: the initializer cannot fail for them.
    static let traceparent = HTTPField.Name("traceparent")!
    // swift-format-ignore: NeverForceUnwrap
    // As above.
    static let tracestate = HTTPField.Name("tracestate")!

    func extract(key: String, from carrier: HTTPFields) -> String? {
        // The two W3C names are made once, not for every request.
        switch key {
        case Self.traceparent.rawName: return carrier[Self.traceparent]
        case Self.tracestate.rawName: return carrier[Self.tracestate]
        default: return HTTPField.Name(key).flatMap { carrier[$0] }
        }
    }
}
