import HTTPTypes
import Hummingbird
import Metrics
import NATSWire
import ServiceRuntime
import Synchronization

/// The gateway's own counters beside the HTTP metrics (``HTTPMetrics``): NATS
/// requests that failed, by kind, and idempotent requests sent again. All go through
/// swift-metrics into ``ProcessMetrics``.
final class GatewayMetrics: Sendable {
    private let natsErrors = Mutex<[String: Counter]>([:])
    private let retries = Counter(label: MetricCatalog.gatewayRetries)

    func recordNATSError(_ kind: String) {
        let counter = natsErrors.withLock { counters in
            if let counter = counters[kind] { return counter }
            let counter = Counter(label: MetricCatalog.gatewayNATSErrors, dimensions: [("kind", kind)])
            counters[kind] = counter
            return counter
        }
        counter.increment()
    }

    /// An idempotent request sent a second time.
    func recordRetry() { retries.increment() }

    /// This process's metrics, for `GET /metrics`.
    func render() -> String {
        ProcessMetrics.shared.render().rendered(help: { MetricCatalog.help[$0] })
    }

    /// Every service instance's metrics, gathered over NATS for `GET /metrics/services`:
    /// each instance that answers within `timeout` is in, labelled with its service and
    /// instance id, and `gateway_metrics_instances_answered` counts them by service.
    func renderServices(nats: NATSClient, timeout: Duration) async -> String {
        let replies =
            (try? await nats.requestMany([], to: MetricsExport.subject, timeout: timeout)) ?? []
        var merged = PrometheusText()
        var answered: [String: Int] = [:]
        for reply in replies {
            merged.merge(PrometheusText(parsing: String(decoding: reply.payload, as: UTF8.self)))
            let service = reply.headers?[MetricsExport.serviceHeader] ?? "unknown"
            answered[service, default: 0] += 1
        }
        var count = "# TYPE \(MetricCatalog.servicesAnswered) gauge\n"
        for service in Upstreams.services {
            count +=
                "\(MetricCatalog.servicesAnswered){service=\"\(PrometheusText.escape(service))\"} \(answered[service] ?? 0)\n"
        }
        merged.merge(PrometheusText(parsing: count))
        return merged.rendered(help: { MetricCatalog.help[$0] })
    }
}

/// Counts and times every request under its route template (not the raw path, so ids do not
/// explode the label set), with the names and labels of Hummingbird's `MetricsMiddleware`.
/// Ours records when the handler returns instead of after the body is written: the
/// post-write closure Hummingbird's adds to every response cost the gateway ~10 µs per
/// request here (alternating runs of `GET /products/{id}`), and the gateway's bodies are
/// written in one piece right after.
struct HTTPMetrics<Context: RequestContext>: RouterMiddleware {
    private let cache = HTTPMetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let start = ContinuousClock.now
        cache.active.increment()
        defer { cache.active.decrement() }
        do {
            let response = try await next(request, context)
            cache.series(request.method, context.endpointPath, response.status.code)
                .record(since: start, failed: false)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            cache.series(request.method, context.endpointPath, status).record(since: start, failed: true)
            throw error
        }
    }
}

/// The metrics of each route, method and status seen, made on first use.
final class HTTPMetricsCache: Sendable {
    struct Key: Hashable {
        let method: HTTPRequest.Method
        let route: String?
        let status: Int
    }

    struct Series: Sendable {
        let requests: Counter
        let errors: Counter
        let duration: Metrics.Timer

        func record(since start: ContinuousClock.Instant, failed: Bool) {
            requests.increment()
            if failed { errors.increment() }
            duration.recordInterval(since: start)
        }
    }

    let active = Meter(label: MetricCatalog.httpActive)
    private let series = Mutex<[Key: Series]>([:])

    func series(_ method: HTTPRequest.Method, _ route: String?, _ status: Int) -> Series {
        let key = Key(method: method, route: route, status: status)
        return series.withLock { all in
            if let found = all[key] { return found }
            let dimensions = [
                ("http_route", route ?? "unmatched"), ("http_request_method", method.rawValue),
                ("http_response_status_code", "\(status)"),
            ]
            let made = Series(
                requests: Counter(label: MetricCatalog.httpRequests, dimensions: dimensions),
                errors: Counter(label: MetricCatalog.httpErrors, dimensions: dimensions),
                duration: Metrics.Timer(label: MetricCatalog.httpDuration, dimensions: dimensions))
            all[key] = made
            return made
        }
    }
}
