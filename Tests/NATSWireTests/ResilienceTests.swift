import Foundation
import Synchronization
import TestHarness
import Testing

@testable import NATSWire

/// Collects a client's events for later assertions.
final class EventLog: Sendable {
    private let events = Mutex<[NATSEvent]>([])

    init(_ client: NATSClient) {
        let stream = client.events()
        Task { [self] in
            for await event in stream { self.record(event) }
        }
    }

    private func record(_ event: NATSEvent) { events.withLock { $0.append(event) } }

    var all: [NATSEvent] { events.withLock { $0 } }

    func count(where predicate: (NATSEvent) -> Bool) -> Int { all.filter(predicate).count }

    func contains(_ predicate: (NATSEvent) -> Bool) -> Bool { all.contains(where: predicate) }
}

extension NATSEvent {
    var isReconnected: Bool { if case .reconnected = self { return true } else { return false } }
    var isDisconnected: Bool { if case .disconnected = self { return true } else { return false } }
    var isLameDuck: Bool { self == .lameDuckMode }
    var isSlowConsumer: Bool { if case .slowConsumer = self { return true } else { return false } }
    var discovered: [String]? {
        if case .discoveredServers(let urls) = self { return urls } else { return nil }
    }
}

/// Fast reconnects for tests: at once, then every 50 ms, forever.
func quickReconnect(_ options: inout NATSOptions) {
    options.reconnect = ReconnectPolicy(
        initialWait: .milliseconds(50), maxWait: .milliseconds(200), jitter: .milliseconds(10),
        maxAttemptsPerServer: nil)
}

@Suite("Reconnect, cluster failover, lame duck, drain, slow consumers", .timeLimit(.minutes(5)))
struct ResilienceTests {
    // MARK: - Pure rules

    @Test func reconnectPolicyBacksOffExponentiallyWithJitterAndACap() {
        let policy = ReconnectPolicy(
            initialWait: .seconds(2), maxWait: .seconds(10), multiplier: 2, jitter: .milliseconds(100))
        #expect(policy.wait(beforePass: 0, random: 1) == .zero)
        #expect(policy.wait(beforePass: 1, random: 0) == .seconds(2))
        #expect(policy.wait(beforePass: 2, random: 0) == .seconds(4))
        #expect(policy.wait(beforePass: 3, random: 0) == .seconds(8))
        #expect(policy.wait(beforePass: 4, random: 0) == .seconds(10))
        #expect(policy.wait(beforePass: 50, random: 0) == .seconds(10))
        #expect(policy.wait(beforePass: 1, random: 1) == .milliseconds(2100))
        #expect(policy.wait(beforePass: 1, random: 0.5) == .milliseconds(2050))
    }

    // MARK: - Reconnect to the same server

    @Test func serverRestartOnTheSamePortLosesNothingBufferedAndRestoresSubscriptions() async throws {
        let first = try NATSServer()
        let port = first.port
        // The subscriber retries every 50 ms; the publisher waits 3 s after its first retry
        // fails, so the subscriber is back before the publisher sends what it buffered.
        let subscriber = try await connect(first.url) { quickReconnect(&$0) }
        let publisher = try await connect(first.url) {
            $0.reconnect = ReconnectPolicy(initialWait: .seconds(3), jitter: .zero, maxAttemptsPerServer: nil)
        }
        let subscriberEvents = EventLog(subscriber)
        let publisherEvents = EventLog(publisher)
        let all = try subscriber.subscribe(to: "stream.data")
        let queued = try subscriber.subscribe(to: "stream.work", queue: "workers")
        let limited = try subscriber.subscribe(to: "stream.limited")
        try limited.unsubscribe(after: 5)
        try await subscriber.flush()

        for i in 0..<100 { try publisher.publish("\(i)", to: "stream.data") }
        for i in 0..<2 { try publisher.publish("\(i)", to: "stream.limited") }
        try await publisher.flush()
        let before = try await collect(all, count: 100)
        #expect(before.map(\.string) == (0..<100).map(String.init))

        first.kill()
        #expect(await eventually { publisher.status == .reconnecting && subscriber.status == .reconnecting })
        // Published while disconnected: kept in the reconnect buffer.
        for i in 100..<200 { try publisher.publish("\(i)", to: "stream.data") }
        for i in 0..<10 { try publisher.publish("w\(i)", to: "stream.work") }
        for i in 2..<10 { try publisher.publish("\(i)", to: "stream.limited") }

        let second = try NATSServer(port: port)
        defer { second.stop() }
        #expect(await eventually(timeout: .seconds(10)) { subscriber.status == .connected })
        #expect(await eventually(timeout: .seconds(10)) { publisher.status == .connected })
        for i in 200..<300 { try publisher.publish("\(i)", to: "stream.data") }
        try await publisher.flush()

        let after = try await collect(all, count: 200)
        #expect(after.map(\.string) == (100..<300).map(String.init))
        let work = try await collect(queued, count: 10)
        #expect(work.map(\.string) == (0..<10).map { "w\($0)" })
        // 2 delivered before the restart, so exactly 3 more, then the sequence ends.
        var limitedAfter: [String] = []
        for try await message in limited { limitedAfter.append(message.string) }
        #expect(limitedAfter == ["0", "1", "2", "3", "4"])

        #expect(subscriber.statistics.reconnects == 1)
        #expect(publisher.statistics.reconnects == 1)
        #expect(subscriberEvents.contains(\.isDisconnected))
        #expect(subscriberEvents.contains(\.isReconnected))
        #expect(publisherEvents.contains(\.isReconnected))
        await subscriber.close()
        await publisher.close()
    }

    @Test func requestsSurviveAReconnectOrFailAtTheirDeadline() async throws {
        let first = try NATSServer()
        let port = first.port
        let responder = try await connect(first.url) { quickReconnect(&$0) }
        // The requester comes back 6 s after the responder, so its buffered request finds
        // the responder subscribed again, and a request made meanwhile cannot be failed by a
        // reconnect attempt: only by its own deadline.
        let requester = try await connect(first.url) {
            $0.reconnect = ReconnectPolicy(initialWait: .seconds(6), jitter: .zero, maxAttemptsPerServer: nil)
        }
        try responder.subscribe(to: "echo") { message in
            try? responder.reply(to: message, with: message.payload)
        }
        try await responder.flush()
        #expect(try await requester.request("before", to: "echo").string == "before")

        first.kill()
        #expect(await eventually { requester.status == .reconnecting })
        // A request made while disconnected with a short deadline fails at that deadline.
        let start = ContinuousClock.now
        await #expect {
            _ = try await requester.request("lost", to: "echo", timeout: .milliseconds(300))
        } throws: { ($0 as? NATSError)?.kind == .timeout }
        #expect(ContinuousClock.now - start < .seconds(4))
        // One with room is buffered and answered after the reconnect (the inbox is restored).
        let waiting = Task { try await requester.request("during", to: "echo", timeout: .seconds(20)) }
        // The server comes back once the request is waiting (registered while disconnected).
        #expect(await eventually { requester.components.mux.pendingCount == 1 })
        let second = try NATSServer(port: port)
        defer { second.stop() }
        let reply = try await waiting.value
        #expect(reply.string == "during")
        #expect(try await requester.request("after", to: "echo").string == "after")
        await responder.close()
        await requester.close()
    }

    @Test func fullReconnectBufferFailsPublishesClearly() async throws {
        let server = try NATSServer()
        let nats = try await connect(server.url) {
            quickReconnect(&$0)
            $0.reconnectBufferSize = 64 * 1024
        }
        server.kill()
        #expect(await eventually { nats.status == .reconnecting })
        let payload = [UInt8](repeating: 0x61, count: 1024)
        var accepted = 0
        var failure: NATSError?
        for _ in 0..<200 {
            do {
                try nats.publish(payload, to: "big")
                accepted += 1
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.kind == .reconnectBufferFull)
        #expect(accepted > 50 && accepted < 64)
        await nats.close()
        #expect(nats.status == .closed)
    }

    @Test(.timeLimit(.minutes(1))) func closeWhileReconnectingReturnsPromptly() async throws {
        let server = try NATSServer()
        let nats = try await connect(server.url) {
            // An hour before the next pass: close returning at all proves it does not wait for
            // the back-off (the time limit fails the test otherwise), with no clock to race.
            $0.reconnect = ReconnectPolicy(
                initialWait: .seconds(3600), maxWait: .seconds(3600), maxAttemptsPerServer: nil)
        }
        let subscription = try nats.subscribe(to: "x")
        server.kill()
        #expect(await eventually { nats.status == .reconnecting })
        await nats.close()
        #expect(nats.status == .closed)
        var count = 0
        for try await _ in subscription { count += 1 }
        #expect(count == 0)
    }

    @Test func givingUpAfterTheAttemptsClosesWithTheLastError() async throws {
        let server = try NATSServer()
        let nats = try await connect(server.url) {
            $0.reconnect = ReconnectPolicy(
                initialWait: .milliseconds(20), maxWait: .milliseconds(20), jitter: .zero,
                maxAttemptsPerServer: 3)
        }
        server.kill()
        #expect(await eventually(timeout: .seconds(5)) { nats.status == .closed })
        #expect(nats.closeReason?.kind == .connectionClosed)
        #expect(nats.closeReason?.message.contains("every server") == true)
    }

    @Test func staleConnectionTriggersAReconnect() async throws {
        let server = try NATSServer()
        defer {
            kill(server.pid, SIGCONT)
            server.stop()
        }
        let nats = try await connect(server.url) {
            quickReconnect(&$0)
            $0.pingInterval = .milliseconds(50)
            $0.connectTimeout = .milliseconds(300)
        }
        let events = EventLog(nats)
        try await nats.flush()
        kill(server.pid, SIGSTOP)
        #expect(
            await eventually(timeout: .seconds(10)) {
                events.contains {
                    if case .disconnected(let reason) = $0 { reason?.kind == .staleConnection } else { false }
                }
            })
        kill(server.pid, SIGCONT)
        #expect(
            await eventually(timeout: .seconds(10)) {
                nats.status == .connected && nats.statistics.reconnects >= 1
            })
        try await nats.flush()
        await nats.close()
    }

    // MARK: - Clusters

    @Test func clusterDiscoveryAndFailover() async throws {
        let cluster = try NATSCluster(size: 3)
        defer { cluster.stop() }
        try cluster.waitForRoutes()
        // Told about one node only; learns the others from INFO.
        let nats = try await connect(cluster.nodes[0].url) { quickReconnect(&$0) }
        let events = EventLog(nats)
        #expect(await eventually { nats.knownServers.count == 3 })
        #expect(
            Set(nats.knownServers.map { $0.split(separator: ":").last.map(String.init) ?? "" })
                == Set(cluster.nodes.map { String($0.port) }))

        // A responder on another node answers through the cluster.
        let responder = try await connect(cluster.nodes[2].url) { quickReconnect(&$0) }
        try responder.subscribe(to: "svc") { message in
            try? responder.reply(to: message, with: message.payload)
        }
        try await responder.flush()
        #expect(
            await eventually {
                (try? await nats.request("ping", to: "svc", timeout: .milliseconds(200)))?.string == "ping"
            })

        // How fast is a figure for the fault suite, not a bound here: a busy machine slows it.
        cluster.nodes[0].kill()
        #expect(await eventually(timeout: .seconds(30)) { events.contains(\.isReconnected) })
        #expect(nats.serverInfo?.port != cluster.nodes[0].port)
        #expect(try await nats.request("again", to: "svc", timeout: .seconds(2)).string == "again")
        await nats.close()
        await responder.close()
    }

    @Test func lameDuckServerIsLeftForAnotherNode() async throws {
        let cluster = try NATSCluster(size: 2, extraConfig: "lame_duck_grace_period: \"10s\"")
        defer { cluster.stop() }
        try cluster.waitForRoutes()
        let nats = try await connect(cluster.nodes[0].url) { quickReconnect(&$0) }
        let events = EventLog(nats)
        #expect(await eventually { nats.knownServers.count == 2 })
        let subscription = try nats.subscribe(to: "ldm.test")
        try await nats.flush()

        try cluster.nodes[0].signal("ldm")
        #expect(await eventually(timeout: .seconds(5)) { events.contains(\.isLameDuck) })
        // It moves before the grace period ends (10 s), to the other node.
        #expect(
            await eventually(timeout: .seconds(5)) {
                nats.status == .connected && nats.serverInfo?.port == cluster.nodes[1].port
            })
        let publisher = try await connect(cluster.nodes[1].url)
        try publisher.publish("still here", to: "ldm.test")
        try await publisher.flush()
        let got = try await collect(subscription, count: 1)
        #expect(got.first?.string == "still here")
        await publisher.close()
        await nats.close()
    }

    // MARK: - Drain

    @Test func connectionDrainDeliversEverythingTheServerSent() async throws {
        try await withNATSServer { server in
            let consumer = try await connect(server.url)
            let publisher = try await connect(server.url)
            let subscription = try consumer.subscribe(to: "drain.load")
            try await consumer.flush()
            // The consumer takes one message, then waits until the drain has begun: the drain
            // must deliver the whole backlog, not find it already taken.
            let (gate, open) = AsyncStream<Void>.makeStream()
            let received = Task { () -> [Int] in
                var seen: [Int] = []
                for try await message in subscription {
                    seen.append(Int(message.string) ?? -1)
                    if seen.count == 1 { for await _ in gate { break } }
                }
                return seen
            }
            let total = 20_000
            for i in 0..<total { try publisher.publish("\(i)", to: "drain.load") }
            try await publisher.flush()  // the server has routed all of it to the consumer
            let draining = Task { try await consumer.drain(timeout: .seconds(20)) }
            #expect(await eventually { consumer.isDraining.load(ordering: .acquiring) })
            open.yield()
            open.finish()
            try await draining.value
            #expect(consumer.status == .closed)
            #expect(consumer.closeReason == nil)
            let seen = try await received.value
            #expect(seen.count == total)
            #expect(seen == Array(0..<total))
            #expect(throws: NATSError.self) { try consumer.publish("late", to: "x") }
            await publisher.close()
        }
    }

    @Test func subscriptionDrainUnderLoadEndsWithAnUnbrokenPrefix() async throws {
        try await withNATSServer { server in
            let consumer = try await connect(server.url)
            let publisher = try await connect(server.url)
            let subscription = try consumer.subscribe(to: "drain.sub")
            try await consumer.flush()
            let producing = Task {
                var i = 0
                while !Task.isCancelled && i < 200_000 {
                    try publisher.publish("\(i)", to: "drain.sub")
                    i += 1
                    if i % 1000 == 0 { await Task.yield() }
                }
            }
            let received = Task { () -> [Int] in
                var seen: [Int] = []
                for try await message in subscription { seen.append(Int(message.string) ?? -1) }
                return seen
            }
            #expect(
                await eventually { subscription.pendingCount > 0 || consumer.statistics.inMessages > 1000 })
            try await subscription.drain(timeout: .seconds(10))
            producing.cancel()
            let seen = try await received.value
            // Everything delivered before the UNSUB took effect, in order, nothing missing.
            #expect(seen.count >= 1000)
            #expect(seen == Array(0..<seen.count))
            #expect(subscription.droppedCount == 0)
            // The connection itself goes on.
            #expect(consumer.status == .connected)
            try await consumer.flush()
            await consumer.close()
            await publisher.close()
        }
    }

    @Test func newWorkIsRefusedWhileDraining() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let subscription = try nats.subscribe(to: "slow")
            // Generous: subscriptions made before the drain began (by the loop below) drain too,
            // and a busy machine must not turn that into a timeout.
            let draining = Task { try await nats.drain(timeout: .seconds(10)) }
            #expect(await eventually { (try? nats.subscribe(to: "new")) == nil })
            #expect {
                try nats.subscribe(to: "new")
            } throws: { ($0 as? NATSError)?.kind == .draining }
            // Nobody consumes `subscription` but it is empty, so the drain completes.
            try await draining.value
            #expect(nats.status == .closed)
            _ = subscription
        }
    }

    // MARK: - Slow consumers

    @Test func slowConsumerDropsBeyondItsLimitsAndReportsOnce() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let events = EventLog(nats)
            let subscription = try nats.subscribe(
                to: "firehose", pendingLimits: PendingLimits(messages: 100, bytes: 0))
            let bytesLimited = try nats.subscribe(
                to: "firehose", pendingLimits: PendingLimits(messages: 0, bytes: 10 * 1024))
            try await nats.flush()
            let publisher = try await connect(server.url)
            let payload = [UInt8](repeating: 0x78, count: 1024)
            for _ in 0..<1000 { try publisher.publish(payload, to: "firehose") }
            try await publisher.flush()
            #expect(await eventually { subscription.droppedCount == 900 })
            #expect(subscription.pendingCount == 100)
            #expect(bytesLimited.pendingCount == 10)
            #expect(bytesLimited.droppedCount == 990)
            #expect(await eventually { events.count(where: \.isSlowConsumer) == 2 })
            #expect(events.contains { $0 == .slowConsumer(sid: subscription.sid, subject: "firehose") })
            // The consumer catches up; the queue took only what the limit allows.
            let taken = try await collect(subscription, count: 100)
            #expect(taken.count == 100)
            #expect(nats.status == .connected)
            await publisher.close()
            await nats.close()
        }
    }
}
