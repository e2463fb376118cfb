import Metrics
import NATSWire
import ServiceRuntime
import Synchronization

/// The gateway's own counters beside Hummingbird's HTTP metrics (`MetricsMiddleware`): NATS
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
