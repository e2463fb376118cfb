import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Request counts by route and status, a latency histogram per route and NATS request
/// errors by kind, rendered in the Prometheus text format for `GET /metrics`.
final class GatewayMetrics: Sendable {
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct RouteKey: Hashable {
        let method: String
        let route: String
    }

    private struct Histogram {
        var counts = [UInt64](repeating: 0, count: GatewayMetrics.buckets.count)
        var sum = 0.0
        var total: UInt64 = 0
    }

    private struct State {
        var requests: [RouteKey: [Int: UInt64]] = [:]
        var latency: [RouteKey: Histogram] = [:]
        var natsErrors: [String: UInt64] = [:]
        var retries: UInt64 = 0
    }

    private let state = Mutex(State())

    func record(method: String, route: String, status: Int, seconds: Double) {
        let key = RouteKey(method: method, route: route)
        state.withLock { s in
            s.requests[key, default: [:]][status, default: 0] += 1
            var histogram = s.latency[key] ?? Histogram()
            if let index = Self.buckets.firstIndex(where: { seconds <= $0 }) { histogram.counts[index] += 1 }
            histogram.sum += seconds
            histogram.total += 1
            s.latency[key] = histogram
        }
    }

    func recordNATSError(_ kind: String) {
        state.withLock { $0.natsErrors[kind, default: 0] += 1 }
    }

    /// An idempotent request sent a second time.
    func recordRetry() {
        state.withLock { $0.retries += 1 }
    }

    func render() -> String {
        let snapshot = state.withLock { $0 }
        var lines = [
            "# HELP gateway_http_requests_total HTTP requests by route and status.",
            "# TYPE gateway_http_requests_total counter",
        ]
        for key in snapshot.requests.keys.sorted(by: { ($0.route, $0.method) < ($1.route, $1.method) }) {
            for (status, count) in (snapshot.requests[key] ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append(
                    "gateway_http_requests_total{method=\"\(key.method)\",route=\"\(Self.escape(key.route))\",status=\"\(status)\"} \(count)"
                )
            }
        }
        lines += [
            "# HELP gateway_http_request_duration_seconds HTTP request latency by route.",
            "# TYPE gateway_http_request_duration_seconds histogram",
        ]
        for key in snapshot.latency.keys.sorted(by: { ($0.route, $0.method) < ($1.route, $1.method) }) {
            guard let histogram = snapshot.latency[key] else { continue }
            let labels = "method=\"\(key.method)\",route=\"\(Self.escape(key.route))\""
            var cumulative: UInt64 = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += histogram.counts[index]
                lines.append(
                    "gateway_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)")
            }
            lines.append(
                "gateway_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(histogram.total)")
            lines.append("gateway_http_request_duration_seconds_sum{\(labels)} \(histogram.sum)")
            lines.append("gateway_http_request_duration_seconds_count{\(labels)} \(histogram.total)")
        }
        lines += [
            "# HELP gateway_nats_request_errors_total NATS requests that failed, by kind.",
            "# TYPE gateway_nats_request_errors_total counter",
        ]
        for (kind, count) in snapshot.natsErrors.sorted(by: { $0.key < $1.key }) {
            lines.append("gateway_nats_request_errors_total{kind=\"\(kind)\"} \(count)")
        }
        lines += [
            "# HELP gateway_nats_request_retries_total Idempotent requests sent a second time.",
            "# TYPE gateway_nats_request_retries_total counter",
            "gateway_nats_request_retries_total \(snapshot.retries)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

/// Times every request and records it under its route template (not the raw path, so ids
/// do not explode the label set).
struct MetricsRecorder<Context: RequestContext>: RouterMiddleware {
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws
        -> Response
    {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, start: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, start: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        metrics.record(
            method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status,
            seconds: Double(seconds) + Double(attoseconds) / 1e18)
    }
}
