import Instrumentation
import Logging
import NATSWire
import ServiceContextModule
import Synchronization
import Tracing

#if canImport(Glibc)
    import Glibc
#endif

/// Tracing in a process: swift-distributed-tracing's `InstrumentationSystem` bootstrapped
/// with ``OTLPTracer`` when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and spans made through
/// ``ProcessTracing/withSpan(_:ofKind:context:attributes:_:)``, which costs a flag check when
/// tracing is off.
public enum ProcessTracing {
    private static let enabledFlag = Atomic<Bool>(false)
    /// The tracer, for the runtime's own spans: `InstrumentationSystem.tracer` looks it up
    /// under a lock with a dynamic cast on every call (3 % of a traced service's CPU).
    private static let tracer = Mutex<OTLPTracer?>(nil)

    /// Whether spans are recorded in this process.
    public static var isEnabled: Bool { enabledFlag.load(ordering: .relaxed) }

    /// Starts tracing if `settings` name an endpoint: the tracer, the export thread, the
    /// resource (`service.name` = `OTEL_SERVICE_NAME` or `service`). Call once, early, before
    /// connecting to NATS (the connection's options read ``isEnabled``).
    public static func start(_ settings: TraceSettings, service: String, logger: Logger) {
        guard let endpoint = settings.endpoint else { return }
        var resource: [(String, AttributeValue)] = [
            ("service.name", .string(settings.serviceName ?? service)),
            ("service.instance.id", .string(NUID.generate())),
            ("telemetry.sdk.name", .string("natswire")),
            ("telemetry.sdk.language", .string("swift")),
            ("process.pid", .int(Int64(getpid()))),
        ]
        for (key, value) in settings.resourceAttributes {
            resource.removeAll { $0.0 == key }
            resource.append((key, .string(value)))
        }
        let exporter = OTLPHTTPExporter(settings: settings, endpoint: endpoint) { message in
            logger.warning("\(message)")
        }
        let batcher = SpanBatcher(settings: settings) { [resource] spans in
            exporter.export(OTLPProtobuf.exportRequest(spans, resource: resource, scope: "natswire"))
        }
        guard batcher.start() else {
            logger.error("tracing off: cannot start the export thread")
            return
        }
        observe(batcher)
        let made = OTLPTracer(sampler: settings.sampler, batcher: batcher)
        InstrumentationSystem.bootstrap(made)
        tracer.withLock { $0 = made }
        enabledFlag.store(true, ordering: .relaxed)
        logger.info(
            "tracing on",
            metadata: [
                "endpoint":
                    "\(endpoint.tls == nil ? "http" : "https")://\(endpoint.hostHeader)\(endpoint.path)"
            ])
    }

    /// For the stores: whether a task's `ServiceContext` belongs to a recorded (sampled)
    /// trace, so its calls become spans; `nil` when tracing is off. Inside a trace that is not
    /// recorded, nothing below its first span is made (it would not be exported anyway).
    public static var recordedTraces: (@Sendable (ServiceContext) -> Bool)? {
        guard isEnabled else { return nil }
        return { $0.traceContext?.isSampled == true }
    }

    /// The export's counts as metrics, sampled at each scrape.
    private static func observe(_ batcher: SpanBatcher, in metrics: ProcessMetrics = .shared) {
        let exported = CounterMirror(label: MetricCatalog.spansExported)
        let dropped = CounterMirror(label: MetricCatalog.spansDropped)
        let failures = CounterMirror(label: MetricCatalog.exportFailures)
        metrics.addSampler {
            let counts = batcher.counts
            exported.sample(UInt64(counts.exported))
            dropped.sample(UInt64(counts.dropped))
            failures.sample(UInt64(counts.failedExports))
        }
    }

    /// Exports the spans still queued (at most `timeout`): call before the process exits.
    public static func shutdown(timeout: Duration = .seconds(5)) {
        tracer.withLock { $0 }?.batcher.shutdown(timeout: timeout)
    }

    /// Runs `body` in a span when tracing is on; otherwise just runs it (`span` is `nil`).
    /// An error thrown by `body` is recorded on the span and marks it failed.
    public static func withSpan<T>(
        _ name: String, ofKind kind: SpanKind, context: ServiceContext? = nil,
        attributes: @autoclosure () -> [(String, String)] = [],
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        guard isEnabled, let tracer = tracer.withLock({ $0 }) else { return try await body(nil) }
        let parent = context ?? .current
        if let parent, let trace = parent.traceContext, !trace.isSampled, tracer.sampler.followsParent {
            // A trace that is not recorded: no span (it would export nothing), only its context
            // for the log lines and for what this task sends on.
            if context == nil { return try await body(nil) }
            return try await ServiceContext.withValue(parent) { try await body(nil) }
        }
        let span = tracer.startSpan(
            name, context: parent ?? .topLevel, ofKind: kind, at: DefaultTracerClock.now,
            function: #function, file: #fileID, line: #line)
        span.add(attributes())
        defer { span.end() }
        do {
            return try await ServiceContext.withValue(span.context) { try await body(span) }
        } catch {
            // A service error below 500 is the caller's mistake, answered as designed.
            if let serviceError = ServiceApp.serviceError(for: error), serviceError.code < 500 {
                span.attributes["natswire.error_code"] = serviceError.code
            } else {
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error))
            }
            throw error
        }
    }

    /// The trace context sent with a message (`traceparent`), as a `ServiceContext` for the
    /// receiver's span; `nil` when it carries none or tracing is off.
    public static func context(from headers: NATSHeaders?) -> ServiceContext? {
        guard isEnabled, let parent = NATSTraceContext(headers: headers) else { return nil }
        var context = ServiceContext.topLevel
        context.traceContext = parent
        return context
    }
}

/// Adds the current task's trace context to what NATSWire publishes (its injector hook),
/// through whatever instrument is bootstrapped.
struct ServiceContextInjector: NATSTraceContextInjector {
    func inject(into headers: inout NATSHeaders) {
        guard let context = ServiceContext.current else { return }
        InstrumentationSystem.instrument.inject(context, into: &headers, using: NATSHeadersCarrier())
    }
}

/// NATS headers as a propagation carrier.
struct NATSHeadersCarrier: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout NATSHeaders) {
        carrier.set(value, for: key)
    }

    func extract(key: String, from carrier: NATSHeaders) -> String? { carrier[key] }
}
