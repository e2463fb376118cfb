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
    private static let started = Atomic<Bool>(false)
    /// The tracer, for the runtime's own spans: `InstrumentationSystem.tracer` looks it up
    /// under a lock with a dynamic cast on every call (3 % of a traced service's CPU).
    // nonisolated(unsafe): written once, by the one `start` that wins `started`, before
    // `enabledFlag` is set with release ordering; read only through `tracer`, after an
    // acquiring load has seen the flag set.
    nonisolated(unsafe) private static var installed: OTLPTracer?

    /// The tracer once tracing is on, without a lock (read on every span).
    private static var tracer: OTLPTracer? { enabledFlag.load(ordering: .acquiring) ? installed : nil }

    /// Whether spans are recorded in this process.
    public static var isEnabled: Bool { enabledFlag.load(ordering: .relaxed) }

    /// Starts tracing if `settings` name an endpoint: the tracer, the export thread, the
    /// resource (`service.name` = `OTEL_SERVICE_NAME` or `service`). Call once, early, before
    /// connecting to NATS (the connection's options read ``isEnabled``).
    public static func start(_ settings: TraceSettings, service: String, logger: Logger) {
        guard let endpoint = settings.endpoint,
            started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
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
        let framing = OTLPProtobuf.Framing(resource: resource, scope: "natswire")
        let batcher = SpanBatcher(settings: settings, framing: framing) { body in exporter.export(body) }
        guard batcher.start() else {
            logger.error("tracing off: cannot start the export thread")
            return
        }
        observe(batcher)
        let made = OTLPTracer(sampler: settings.sampler, batcher: batcher)
        InstrumentationSystem.bootstrap(made)
        installed = made
        enabledFlag.store(true, ordering: .releasing)
        logger.info(
            "tracing on",
            metadata: [
                "endpoint":
                    "\(endpoint.tls == nil ? "http" : "https")://\(endpoint.hostHeader)\(endpoint.path)"
            ])
    }

    /// For the stores: the tracer that records a task's calls as spans when its current
    /// trace (``CurrentTrace``) is recorded (sampled), else `nil`; `nil` altogether
    /// when tracing is off. Inside a trace that is not recorded, nothing below its first span
    /// is made (it would not be exported anyway). The tracer is handed over directly:
    /// `InstrumentationSystem`'s lookup takes a lock and a dynamic cast per span.
    public static var recordedTraces: (@Sendable () -> (any Tracer)?)? {
        guard let tracer else { return nil }
        return { CurrentTrace.context?.isSampled == true ? tracer : nil }
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
        tracer?.batcher.shutdown(timeout: timeout)
    }

    /// Runs `body` in a span when tracing is on; otherwise just runs it (`span` is `nil`).
    /// The span is the child of the current task's trace (``CurrentTrace``). In a trace that
    /// is not recorded `span` is `nil` too: only the trace context is set, for the log lines
    /// and for what `body` sends on. An error thrown by `body` is recorded on the span and
    /// marks it failed when `isFailure` says so (by default: anything but a service error
    /// below 500, which is the caller's mistake, answered as designed).
    public static func withSpan<T>(
        _ name: @autoclosure () -> String, ofKind kind: SpanKind,
        attributes: @autoclosure () -> [(String, String)] = [],
        isFailure: (any Error) -> Bool = ProcessTracing.isServiceFailure,
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        guard let tracer else { return try await body(nil) }
        return try await span(
            name, ofKind: kind, parent: CurrentTrace.context, isRemote: false, tracer: tracer,
            attributes: attributes, isFailure: isFailure, body)
    }

    /// ``withSpan(_:ofKind:attributes:isFailure:_:)`` for a server span that continues a
    /// caller's trace: `remote` is what its request carried (`traceparent`, `tracestate`),
    /// read only when tracing is on; without one the span starts a trace.
    public static func withSpan<T>(
        _ name: @autoclosure () -> String, ofKind kind: SpanKind,
        continuing remote: @autoclosure () -> NATSTraceContext?,
        attributes: @autoclosure () -> [(String, String)] = [],
        isFailure: (any Error) -> Bool = ProcessTracing.isServiceFailure,
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        guard let tracer else { return try await body(nil) }
        return try await span(
            name, ofKind: kind, parent: remote(), isRemote: true, tracer: tracer, attributes: attributes,
            isFailure: isFailure, body)
    }

    /// A span around work that only sends or stores, the child of the current task's trace,
    /// that binds nothing: `body` gets the trace context to write into what it sends (the
    /// span's; an unrecorded root's, so the decision travels on; `nil` when nothing is made
    /// and the current context goes on as it is). Nothing inside a leaf reads a binding.
    public static func withLeafSpan<T>(
        _ name: @autoclosure () -> String, ofKind kind: SpanKind,
        attributes: @autoclosure () -> [(String, String)] = [],
        isFailure: (any Error) -> Bool = ProcessTracing.isServiceFailure,
        _ body: (_ trace: NATSTraceContext?) async throws -> T
    ) async rethrows -> T {
        guard let tracer else { return try await body(nil) }
        let parentTrace = CurrentTrace.context
        if let parentTrace, !parentTrace.isSampled, tracer.sampler.followsParent {
            return try await body(nil)
        }
        let trace = tracer.childContext(of: parentTrace)
        guard trace.isSampled else { return try await body(trace) }
        let span = OTLPSpan(
            name: name(), parentContext: ServiceContext.current, spanContext: trace,
            parentSpanID: parentTrace?.spanID ?? 0, kind: kind,
            start: DefaultTracerClock.now.nanosecondsSinceEpoch, batcher: tracer.batcher)
        span.add(attributes())
        defer { span.end() }
        do {
            return try await body(trace)
        } catch {
            record(error, on: span, isFailure: isFailure)
            throw error
        }
    }

    /// A span under `parent` (the current trace, or a caller's when `isRemote`), bound as the
    /// current trace while `body` runs. Its name and attributes are made only when it is
    /// recorded.
    private static func span<T>(
        _ name: () -> String, ofKind kind: SpanKind, parent: NATSTraceContext?, isRemote: Bool,
        tracer: OTLPTracer, attributes: () -> [(String, String)], isFailure: (any Error) -> Bool,
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        if let parent, !parent.isSampled, tracer.sampler.followsParent {
            // Not recorded: the parent's context goes on as it is (a caller's is bound first).
            guard isRemote else { return try await body(nil) }
            return try await CurrentTrace.with(parent) { try await body(nil) }
        }
        let trace = tracer.childContext(of: parent)
        guard trace.isSampled else {
            // A root (or ratio) decision not to record: no span, the decision travels on.
            return try await CurrentTrace.with(trace) { try await body(nil) }
        }
        let span = OTLPSpan(
            name: name(), parentContext: isRemote ? nil : ServiceContext.current, spanContext: trace,
            parentSpanID: parent?.spanID ?? 0, kind: kind,
            start: DefaultTracerClock.now.nanosecondsSinceEpoch, batcher: tracer.batcher)
        span.add(attributes())
        defer { span.end() }
        do {
            return try await CurrentTrace.with(trace) { try await body(span) }
        } catch {
            record(error, on: span, isFailure: isFailure)
            throw error
        }
    }

    /// A failure as the span's error; a service's 4xx answer as its code only.
    private static func record(_ error: any Error, on span: OTLPSpan, isFailure: (any Error) -> Bool) {
        if isFailure(error) {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
        } else if let serviceError = ServiceApp.serviceError(for: error) {
            span.add("natswire.error_code", serviceError.code)
        }
    }

    /// Whether an error fails a service's span: anything but a service error below 500.
    public static func isServiceFailure(_ error: any Error) -> Bool {
        (ServiceApp.serviceError(for: error)?.code ?? 500) >= 500
    }

    /// Adds attributes to a span of ``withSpan(_:ofKind:context:attributes:isFailure:_:)``
    /// without building a `SpanAttributes` dictionary; nothing when `span` is `nil`.
    public static func annotate(
        _ span: (any Span)?, name: String? = nil, _ strings: [(String, String)],
        integers: [(String, Int)] = []
    ) {
        guard let span = span as? OTLPSpan else { return }
        if let name { span.operationName = name }
        span.add(strings)
        for (key, value) in integers { span.add(key, value) }
    }
}

/// Adds the current task's trace context to what NATSWire publishes (its injector hook).
/// Direct, not through `InstrumentationSystem.instrument`: that lookup takes a lock and a
/// dynamic cast per message, and the one instrument bootstrapped is ``OTLPTracer``, which
/// writes these same two headers.
struct CurrentTraceInjector: NATSTraceContextInjector {
    func inject(into headers: inout NATSHeaders) {
        CurrentTrace.context?.write(into: &headers)
    }
}
