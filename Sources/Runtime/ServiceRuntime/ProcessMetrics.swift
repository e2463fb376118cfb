import Metrics
import Prometheus
import Synchronization

/// The metrics of this process: swift-metrics bootstrapped with a swift-prometheus registry
/// once, plus samplers that copy the state of things that keep their own counts (the NATS
/// client, a database pool) into gauges and counters just before each scrape.
///
/// Anything in the process records through swift-metrics (`Counter(label:)`, `Timer`, …);
/// ``render()`` is the Prometheus text of all of it, with help text from ``MetricCatalog``.
public final class ProcessMetrics: Sendable {
    /// The one instance of this process (swift-metrics allows one bootstrap per process).
    public static let shared = ProcessMetrics()

    public let registry: PrometheusCollectorRegistry
    private let samplers = Mutex<[@Sendable () -> Void]>([])

    private init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = MetricCatalog.sanitize
        factory.durationHistogramBuckets = MetricCatalog.durationBuckets
        MetricsSystem.bootstrap(factory)
    }

    /// Runs `sample` before every scrape; it reads some state and records it.
    public func addSampler(_ sample: @escaping @Sendable () -> Void) {
        samplers.withLock { $0.append(sample) }
    }

    /// This process's metrics in the Prometheus text format.
    public func render() -> PrometheusText {
        for sample in samplers.withLock({ $0 }) { sample() }
        return PrometheusText(parsing: registry.emitToString())
    }
}

/// Keeps a swift-metrics counter equal to a total that something else counts (the NATS
/// client's reconnects): each sample adds what the total grew by since the last one.
public final class CounterMirror: Sendable {
    private let counter: CoreMetrics.Counter
    private let last = Mutex<UInt64>(0)

    public init(label: String, dimensions: [(String, String)] = []) {
        counter = CoreMetrics.Counter(label: label, dimensions: dimensions)
    }

    public func sample(_ total: UInt64) {
        let grown = last.withLock { last -> UInt64 in
            defer { last = max(last, total) }
            return total > last ? total - last : 0
        }
        if grown > 0 { counter.increment(by: Int64(clamping: grown)) }
    }
}
