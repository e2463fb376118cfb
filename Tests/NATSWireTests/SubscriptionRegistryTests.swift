import Testing

@testable import NATSWire

/// The subscription registry alone: sids, routing, auto-unsubscribe, what a new connection
/// is sent again.
@Suite(.timeLimit(.minutes(5))) struct SubscriptionRegistryTests {
    private let ignore = SubscriptionSink.handler { _ in }

    private func resubscribe(_ registry: SubscriptionRegistry) -> String {
        let out = ByteBuffer()
        registry.encodeResubscribe(into: out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    @Test func routesBySidAndForgetsUnknownOnes() {
        let registry = SubscriptionRegistry()
        let a = registry.add(subject: "a", queue: nil, sink: ignore)
        let b = registry.add(subject: "b.>", queue: "workers", sink: ignore)
        #expect(a != b)
        #expect(registry.route(b)?.entry.subject == "b.>")
        #expect(registry.route(b)?.isLast == false)
        #expect(registry.remove(a)?.subject == "a")
        #expect(registry.route(a) == nil)  // a message that crossed the UNSUB
        #expect(registry.entries(subject: "b.>").map(\.sid) == [b])
    }

    @Test func autoUnsubscribeEndsAtTheLimitCountingWhatCameBefore() {
        let registry = SubscriptionRegistry()
        let sid = registry.add(subject: "n", queue: nil, sink: ignore)
        _ = registry.route(sid)
        #expect(registry.setMax(3, for: sid) == true)
        #expect(registry.route(sid)?.isLast == false)
        #expect(registry.route(sid)?.isLast == true)
        #expect(registry.route(sid) == nil)
        // A limit already reached removes the subscription at once.
        let done = registry.add(subject: "m", queue: nil, sink: ignore)
        _ = registry.route(done)
        _ = registry.route(done)
        #expect(registry.setMax(2, for: done) == false)
        #expect(registry.route(done) == nil)
        #expect(registry.setMax(1, for: 999) == nil)
    }

    @Test func aNewConnectionGetsEverySubscriptionInOrderWithWhatIsLeftOfItsLimit() {
        let registry = SubscriptionRegistry()
        let first = registry.add(subject: "one", queue: nil, sink: ignore)
        let second = registry.add(subject: "two", queue: "q", sink: ignore)
        let third = registry.add(subject: "three", queue: nil, sink: ignore)
        _ = registry.setMax(5, for: second)
        _ = registry.route(second)
        _ = registry.route(second)
        _ = registry.markDraining(third)
        #expect(
            resubscribe(registry) == "SUB one \(first)\r\nSUB two q \(second)\r\nUNSUB \(second) 3\r\n")
        #expect(registry.removeAll().count == 3 && registry.allEntries.isEmpty)
        #expect(resubscribe(registry).isEmpty)
    }
}
