import NATSWire
import ServiceContextModule
import Testing
import Tracing

@testable import ServiceRuntime

/// Which trace is current: the runtime's own binding, and a `ServiceContext` bound by other
/// instrumentation (the Tracing API's `withSpan`), the innermost always winning.
@Suite struct CurrentTraceTests {
    private static let outer = NATSTraceContext(traceIDHigh: 1, traceIDLow: 1, spanID: 1)
    private static let foreign = NATSTraceContext(traceIDHigh: 2, traceIDLow: 2, spanID: 2)
    private static let inner = NATSTraceContext(traceIDHigh: 3, traceIDLow: 3, spanID: 3)

    @Test func theInnermostBindingIsCurrent() async {
        #expect(CurrentTrace.context == nil)
        await CurrentTrace.with(Self.outer) {
            #expect(CurrentTrace.context == Self.outer)
            // The runtime's binding builds no `ServiceContext`.
            #expect(ServiceContext.current == nil)
            var foreignContext = ServiceContext.topLevel
            foreignContext.traceContext = Self.foreign
            await ServiceContext.withValue(foreignContext) {
                #expect(CurrentTrace.context == Self.foreign)
                // Inside a foreign span the runtime binds its own where the foreign one is.
                await CurrentTrace.with(Self.inner) {
                    #expect(CurrentTrace.context == Self.inner)
                    #expect(ServiceContext.current?.traceContext == Self.inner)
                }
                #expect(CurrentTrace.context == Self.foreign)
            }
            #expect(CurrentTrace.context == Self.outer)
        }
        #expect(CurrentTrace.context == nil)
    }

    /// A span started through the Tracing API in a context without a trace continues the
    /// runtime's, and such a context is injected as the runtime's; one whose context carries a
    /// trace is that trace's child.
    @Test func theTracerFindsTheRuntimesTrace() async {
        let reader = SettingsReader(arguments: ["test"], environment: [:], dotEnv: nil)
        let batcher = SpanBatcher(
            settings: TraceSettings(reader), framing: OTLPProtobuf.Framing(resource: [], scope: "test")
        ) { _ in true }
        let tracer = OTLPTracer(sampler: TraceSampler(root: .always, followsParent: true), batcher: batcher)
        await CurrentTrace.with(Self.outer) {
            let child = tracer.startSpan("child", context: ServiceContext.current ?? .topLevel)
            #expect(child.spanContext.traceIDLow == Self.outer.traceIDLow)
            #expect(child.spanContext.spanID != Self.outer.spanID)
            var foreignContext = ServiceContext.topLevel
            foreignContext.traceContext = Self.foreign
            let foreignChild = tracer.startSpan("foreign child", context: foreignContext)
            #expect(foreignChild.spanContext.traceIDLow == Self.foreign.traceIDLow)
            #expect(foreignChild.context.traceContext == foreignChild.spanContext)
            // An instrumented client propagating the current context sends the runtime's trace.
            var headers: [String: String] = [:]
            tracer.inject(ServiceContext.current ?? .topLevel, into: &headers, using: DictionaryInjector())
            #expect(headers[NATSTraceContext.traceparentHeader] == Self.outer.traceparent)
        }
        let root = tracer.startSpan("root", context: ServiceContext.topLevel)
        #expect(root.spanContext.traceIDLow != Self.outer.traceIDLow)
    }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}
