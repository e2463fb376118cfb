import Instrumentation
import NATSWire
import ServiceContextModule
import Synchronization
import Tracing

/// Where a span's trace context lives in a `ServiceContext`: the W3C fields of
/// ``NATSTraceContext`` (the one definition of trace id, span id, flags and state).
enum SpanContextKey: ServiceContextKey {
    typealias Value = NATSTraceContext
    static var nameOverride: String? { "trace-context" }
}

extension ServiceContext {
    /// The trace context of the current span, if a tracer set one.
    public var traceContext: NATSTraceContext? {
        get { self[SpanContextKey.self] }
        set { self[SpanContextKey.self] = newValue }
    }
}

/// A swift-distributed-tracing `Tracer` that records spans and hands the finished ones to
/// an exporter (``SpanBatcher``), with W3C Trace Context propagation. Configured by the
/// standard `OTEL_*` variables (``TraceSettings``).
struct OTLPTracer: Tracer {
    let sampler: TraceSampler
    let batcher: SpanBatcher

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> OTLPSpan {
        let context = context()
        // A context without a trace inside a traced task (the Tracing API's default is
        // `.current ?? .topLevel`) continues the task's trace, where the runtime bound it; an
        // explicit `.topLevel` cannot be told apart from that default and continues it too.
        let parent = context.traceContext ?? CurrentTrace.boundByRuntime
        let span = childContext(of: parent)
        return OTLPSpan(
            name: operationName, parentContext: context, spanContext: span, parentSpanID: parent?.spanID ?? 0,
            kind: kind, start: instant().nanosecondsSinceEpoch, batcher: span.isSampled ? batcher : nil)
    }

    /// The context of a new span under `parent` (a new trace without one), with the
    /// sampler's decision in its flags.
    func childContext(of parent: NATSTraceContext?) -> NATSTraceContext {
        guard let parent else {
            let low = IDGenerator.next()
            return NATSTraceContext(
                traceIDHigh: IDGenerator.next(), traceIDLow: low, spanID: IDGenerator.next(),
                flags: sampler.samples(rootTraceID: low) ? 1 : 0)
        }
        return NATSTraceContext(
            traceIDHigh: parent.traceIDHigh, traceIDLow: parent.traceIDLow, spanID: IDGenerator.next(),
            flags: sampler.samples(parent: parent) ? 1 : 0, state: parent.state)
    }

    func forceFlush() { batcher.flushSoon() }

    func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        // As in `startSpan`: a context without a trace inside a traced task carries the task's
        // (an instrumented client injecting `ServiceContext.current ?? .topLevel`).
        guard let span = context.traceContext ?? CurrentTrace.boundByRuntime else { return }
        injector.inject(span.traceparent, forKey: NATSTraceContext.traceparentHeader, into: &carrier)
        if let state = span.state, !state.isEmpty {
            injector.inject(state, forKey: NATSTraceContext.tracestateHeader, into: &carrier)
        }
    }

    func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: NATSTraceContext.traceparentHeader, from: carrier),
            let span = NATSTraceContext(
                traceparent: parent,
                state: extractor.extract(key: NATSTraceContext.tracestateHeader, from: carrier))
        else { return }
        context.traceContext = span
    }
}

/// Which traces are recorded (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
struct TraceSampler: Sendable, Equatable {
    enum Root: Sendable, Equatable {
        case always, never
        case ratio(Double)
    }
    var root: Root
    /// Whether a span with a parent follows the parent's decision (`parentbased_*`).
    var followsParent: Bool

    func samples(parent: NATSTraceContext) -> Bool {
        followsParent ? parent.isSampled : samples(rootTraceID: parent.traceIDLow)
    }

    func samples(rootTraceID: UInt64) -> Bool {
        switch root {
        case .always: return true
        case .never: return false
        case .ratio(let ratio):
            // The trace id's low 63 bits against the ratio: every service decides the same.
            return Double(rootTraceID & (UInt64.max >> 1)) < ratio * Double(UInt64.max >> 1)
        }
    }
}

/// A span of ``OTLPTracer``. An unsampled span carries its context (so the trace's
/// decision travels on) and records nothing. A recorded span writes what it is given
/// straight into OTLP's wire format, and at its end hands the finished message to the
/// exporter: no intermediate copy of its attributes, nothing for the export thread to
/// convert or free.
final class OTLPSpan: Span {
    /// The context the span was started in; its own ``context`` is made from it when asked
    /// for. Setting a value in a `ServiceContext` allocates a dictionary and boxes the value
    /// (0.6 µs), and most spans are never asked: a leaf span (a statement, a request sent
    /// with its `traceparent` written directly) binds nothing.
    private let parentContext: ServiceContext?
    let spanContext: NATSTraceContext
    private let parentSpanID: UInt64
    private let kind: SpanKindCode
    private let start: UInt64
    private let batcher: SpanBatcher?
    private let state: Mutex<State>

    private struct State {
        var name: String
        /// Set through the Tracing API's `attributes` property; written at the end.
        var attributes = SpanAttributes()
        /// Attributes, events and links, already in the wire format.
        var encoded: ProtobufWriter
        var status = SpanStatusCode.unset
        var statusMessage: String?
        var ended = false
    }

    /// What a span of a few attributes takes, so its buffer is allocated once.
    private static let initialCapacity = 384

    init(
        name: String, parentContext: ServiceContext?, spanContext: NATSTraceContext, parentSpanID: UInt64,
        kind: SpanKind, start: UInt64, batcher: SpanBatcher?
    ) {
        self.parentContext = parentContext
        self.spanContext = spanContext
        self.parentSpanID = parentSpanID
        self.kind = SpanKindCode(kind)
        self.start = start
        self.batcher = batcher
        self.state = Mutex(
            State(name: name, encoded: ProtobufWriter(capacity: batcher == nil ? 0 : Self.initialCapacity)))
    }

    /// The parent's context with this span's trace context in it.
    var context: ServiceContext {
        var context = parentContext ?? .topLevel
        context.traceContext = spanContext
        return context
    }

    var isRecording: Bool { batcher != nil && !state.withLock { $0.ended } }

    var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set {
            guard batcher != nil else { return }
            state.withLock { $0.attributes = newValue }
        }
    }

    /// Adds string attributes without going through `SpanAttributes` (whose every
    /// `span.attributes[key] = value` copies the dictionary out of the span and back).
    func add(_ pairs: [(String, String)]) {
        guard batcher != nil, !pairs.isEmpty else { return }
        state.withLock { state in
            guard !state.ended else { return }
            for (key, value) in pairs { OTLPProtobuf.attribute(key, .string(value), into: &state.encoded) }
        }
    }

    /// Adds an integer attribute, as ``add(_:)`` does strings.
    func add(_ key: String, _ value: Int) {
        guard batcher != nil else { return }
        state.withLock { state in
            guard !state.ended else { return }
            OTLPProtobuf.attribute(key, .int(Int64(value)), into: &state.encoded)
        }
    }

    func setStatus(_ status: SpanStatus) {
        state.withLock { state in
            // OK is final; an error keeps its message.
            guard state.status != .ok else { return }
            state.status = status.code == .ok ? .ok : .error
            state.statusMessage = status.code == .ok ? nil : status.message
        }
    }

    func addEvent(_ event: SpanEvent) {
        guard batcher != nil else { return }
        let attributes = Self.values(event.attributes)
        state.withLock { state in
            guard !state.ended else { return }
            OTLPProtobuf.event(
                event.name, nanoseconds: event.nanosecondsSinceEpoch, attributes: attributes,
                into: &state.encoded)
        }
    }

    func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        guard batcher != nil else { return }
        var all: [(String, AttributeValue)] = [
            ("exception.type", .string(String(describing: type(of: error)))),
            ("exception.message", .string(String(describing: error))),
        ]
        all += Self.values(attributes)
        let nanoseconds = instant().nanosecondsSinceEpoch
        state.withLock { state in
            guard !state.ended else { return }
            OTLPProtobuf.event("exception", nanoseconds: nanoseconds, attributes: all, into: &state.encoded)
        }
    }

    func addLink(_ link: SpanLink) {
        guard batcher != nil, let linked = link.context.traceContext else { return }
        state.withLock { state in
            guard !state.ended else { return }
            OTLPProtobuf.link(linked, into: &state.encoded)
        }
    }

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        let finished: [UInt8]? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            guard batcher != nil else { return nil }
            var message = ProtobufWriter()
            swap(&message, &state.encoded)
            state.attributes.forEach { key, attribute in
                if let value = AttributeValue(attribute) {
                    OTLPProtobuf.attribute(key, value, into: &message)
                }
            }
            OTLPProtobuf.finishSpan(
                into: &message, context: spanContext, parentSpanID: parentSpanID, name: state.name,
                kind: kind,
                start: start, end: end, status: state.status, statusMessage: state.statusMessage)
            return message.bytes
        }
        if let finished { batcher?.add(finished) }
    }

    private static func values(_ attributes: SpanAttributes) -> [(String, AttributeValue)] {
        var values: [(String, AttributeValue)] = []
        attributes.forEach { name, attribute in
            if let value = AttributeValue(attribute) { values.append((name, value)) }
        }
        return values
    }
}

extension AttributeValue {
    init?(_ attribute: SpanAttribute) {
        switch attribute {
        case .int32(let value): self = .int(Int64(value))
        case .int64(let value): self = .int(value)
        case .int32Array(let values): self = .array(values.map { .int(Int64($0)) })
        case .int64Array(let values): self = .array(values.map { .int($0) })
        case .double(let value): self = .double(value)
        case .doubleArray(let values): self = .array(values.map { .double($0) })
        case .bool(let value): self = .bool(value)
        case .boolArray(let values): self = .array(values.map { .bool($0) })
        case .string(let value): self = .string(value)
        case .stringArray(let values): self = .array(values.map { .string($0) })
        case .stringConvertible(let value): self = .string(value.description)
        case .stringConvertibleArray(let values): self = .array(values.map { .string($0.description) })
        default: return nil
        }
    }
}
