import NATSWire
import Synchronization
import TestHarness
import Testing

@Suite("W3C trace context over NATS")
struct TraceContextTests {
    @Test func parsesAndFormatsTraceparent() throws {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let context = try #require(NATSTraceContext(traceparent: text, state: "rojo=00f067aa0ba902b7"))
        #expect(context.traceIDHex == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanIDHex == "00f067aa0ba902b7")
        #expect(context.isSampled)
        #expect(context.traceparent == text)
        var headers = NATSHeaders()
        context.write(into: &headers)
        #expect(headers["traceparent"] == text)
        #expect(headers["tracestate"] == "rojo=00f067aa0ba902b7")
        #expect(NATSTraceContext(headers: headers) == context)

        let unsampled = NATSTraceContext(traceIDHigh: 1, traceIDLow: 2, spanID: 3, flags: 0)
        #expect(unsampled.traceparent == "00-00000000000000010000000000000002-0000000000000003-00")
        #expect(!unsampled.isSampled)
        // A later version is read by its first four fields.
        #expect(
            NATSTraceContext(traceparent: "01-\(text.dropFirst(3))-later-fields")?.spanID
                == 0x00f0_67aa_0ba9_02b7)
    }

    @Test(arguments: [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  // no flags
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 is exact
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
    ])
    func refusesWhatIsNotATraceparent(_ text: String) {
        #expect(NATSTraceContext(traceparent: text) == nil)
    }

    /// The injector's context goes out with publishes and requests, not with the services
    /// API's replies; without an active trace nothing is added (no empty header block); a
    /// message whose headers carry a `traceparent` keeps its own.
    @Test func theInjectorTagsOutgoingMessages() async throws {
        try await withNATSServer { server in
            let injector = FixedInjector()
            let sender = try await connect(server.url) { $0.traceContextInjector = injector }
            let receiver = try await connect(server.url)
            let published = try receiver.subscribe(to: "traced.pub")
            let service = try receiver.addService(ServiceConfig(name: "traced", version: "1.0.0"))
            let requests = Mutex<[NATSHeaders?]>([])
            try service.addEndpoint("echo", subject: "traced.echo") { request in
                requests.withLock { $0.append(request.headers) }
                return ServiceReply(request.payload)
            }
            try await receiver.flush()

            try sender.publish("untraced", to: "traced.pub")
            let context = NATSTraceContext(traceIDHigh: 7, traceIDLow: 8, spanID: 9)
            injector.current.withLock { $0 = context }
            var given = NATSHeaders()
            given.append("kept", for: "X-Other")
            try sender.publish("traced", to: "traced.pub", headers: given)
            let reply = try await sender.request("hi", to: "traced.echo")
            // A message that names its trace already keeps it: the injector is not asked.
            let own = NATSTraceContext(traceIDHigh: 1, traceIDLow: 2, spanID: 3, flags: 0, state: "a=b")
            var named = NATSHeaders()
            own.write(into: &named)
            try sender.publish("named", to: "traced.pub", headers: named)
            try await sender.flush()

            let messages = try await collect(published, count: 3)
            #expect(messages[0].headers == nil)
            #expect(messages[1].traceContext == context)
            #expect(messages[1].headers?["X-Other"] == "kept")
            #expect(messages[2].traceContext == own)
            #expect(messages[2].headers?.values(for: NATSTraceContext.traceparentHeader).count == 1)
            #expect(
                requests.withLock { $0 }.first??[NATSTraceContext.traceparentHeader] == context.traceparent)
            #expect(reply.traceContext == nil)
            await sender.close()
            await receiver.close()
        }
    }
}

private final class FixedInjector: NATSTraceContextInjector {
    let current = Mutex<NATSTraceContext?>(nil)
    func inject(into headers: inout NATSHeaders) {
        current.withLock { $0 }?.write(into: &headers)
    }
}
