import Foundation
import Synchronization
import TestHarness
import Testing

@testable import NATSWire

#if canImport(Glibc)
    import Glibc
#endif

/// The other end of a `socketpair`: plays the server, byte for byte, with no nats-server.
final class ScriptedPeer: Sendable {
    let fileDescriptor: Int32
    private let received = Mutex<[UInt8]>([])

    init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a loop that has closed its end must not kill the test with SIGPIPE.
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fileDescriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// Reads until what the client sent contains `expected` (from the start of what is not
    /// yet consumed); returns everything up to and including it. Throws after `timeout`. The
    /// blocking reads run off Swift's cooperative pool.
    func receive(until expected: String, timeout: Duration = .seconds(10)) async throws -> String {
        try await startReceiving(until: expected, timeout: timeout).value
    }

    /// Starts reading on a thread of its own right away (not when a task gets a thread of the
    /// cooperative pool, which a publisher blocked on a full buffer may be holding).
    func startReceiving(until expected: String, timeout: Duration = .seconds(20)) -> PendingReceive {
        let pending = PendingReceive()
        Thread.detachNewThread {
            pending.finish(Result { try self.receiveBlocking(until: expected, timeout: timeout) })
        }
        return pending
    }

    private func receiveBlocking(until expected: String, timeout: Duration) throws -> String {
        let needle = Array(expected.utf8)
        let end = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let found = received.withLock({ bytes -> String? in
                guard let range = Self.firstRange(of: needle, in: bytes) else { return nil }
                let text = String(decoding: bytes[..<range.upperBound], as: UTF8.self)
                bytes.removeFirst(range.upperBound)
                return text
            }) {
                return found
            }
            let remaining = end - ContinuousClock.now
            guard remaining > .zero else {
                throw TestTimeout("the client never sent \(expected.debugDescription)")
            }
            var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + 1)
            guard poll(&descriptor, 1, min(milliseconds, 100)) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw TestTimeout("the client closed before sending \(expected.debugDescription)")
            }
            received.withLock { $0 += buffer[..<count] }
        }
    }

    /// Everything the client sent until it closed its end.
    func receiveAll() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var all = self.received.withLock { bytes -> [UInt8] in
                    defer { bytes = [] }
                    return bytes
                }
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = buffer.withUnsafeMutableBytes {
                        read(self.fileDescriptor, $0.baseAddress, $0.count)
                    }
                    guard count > 0 else { break }
                    all += buffer[..<count]
                }
                continuation.resume(returning: String(decoding: all, as: UTF8.self))
            }
        }
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }

    func close() { _ = Glibc.close(fileDescriptor) }
}

/// What a background read found, once it has.
final class PendingReceive: Sendable {
    private let state = Mutex<
        (result: Result<String, any Error>?, waiter: CheckedContinuation<String, any Error>?)
    >(
        (nil, nil))

    func finish(_ result: Result<String, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<String, any Error>? in
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    var value: String {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let result = state.withLock { state -> Result<String, any Error>? in
                    if state.result == nil { state.waiter = continuation }
                    return state.result
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }
}

/// How a loop ended, in a form tests compare.
enum LoopEnd: Sendable, Equatable {
    case stopped
    case failed(NATSError.Kind, String)
    case migrating
}

/// How the loop ended, once it has; waited for without holding a thread.
final class LoopEndBox: Sendable {
    private let state = Mutex<(end: LoopEnd?, waiter: CheckedContinuation<LoopEnd, Never>?)>((nil, nil))

    func finish(_ end: LoopEnd) {
        let waiter = state.withLock { state -> CheckedContinuation<LoopEnd, Never>? in
            state.end = end
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: end)
    }

    var value: LoopEnd {
        get async {
            await withCheckedContinuation { continuation in
                let end = state.withLock { state -> LoopEnd? in
                    if state.end == nil { state.waiter = continuation }
                    return state.end
                }
                if let end { continuation.resume(returning: end) }
            }
        }
    }
}

/// One `ConnectionLoop` on its own thread over one end of a socketpair.
struct LoopHarness {
    let peer: ScriptedPeer
    let components: ConnectionComponents
    let ended: Task<LoopEnd, Never>

    init(pingInterval: Duration = .seconds(60), maxPingsOutstanding: Int = 2) throws {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            throw TestTimeout("socketpair failed")
        }
        peer = ScriptedPeer(fileDescriptor: pair[1])
        let transport = TCPSocket.adopting(connected: pair[0])
        let notifier = try EventNotifier()
        let components = ConnectionComponents(
            writeBuffer: WriteBuffer(limit: 256 * 1024, waitTimeout: .seconds(10), notifier: notifier),
            notifier: notifier, registry: SubscriptionRegistry(),
            mux: RequestMux(inboxPrefix: "_INBOX", wake: { notifier.signal() }),
            pongs: PongQueue(), counters: InboundCounters())
        self.components = components
        let end = LoopEndBox()
        try IOThread.start(name: "loop-test") {
            components.writeBuffer.ioThread.store(IOThread.current, ordering: .relaxed)
            let loop = ConnectionLoop(
                transport: transport, parser: ProtocolParser(), components: components,
                pingInterval: pingInterval, maxPingsOutstanding: maxPingsOutstanding,
                onInfo: { _ in }, onServerError: { _ in }, onSlowConsumer: { _ in })
            let exit = loop.run()
            loop.closeTransport()
            switch exit {
            case .stopped: end.finish(.stopped)
            case .failed(let error): end.finish(.failed(error.kind, error.message))
            case .migrating: end.finish(.migrating)
            }
        }
        ended = Task { await end.value }
    }

    /// Asks the loop to write what is buffered and stop.
    func stop() {
        components.stopRequested.store(true, ordering: .releasing)
        components.notifier.signal()
    }

    /// A publish, as `NATSClient.publish` buffers it.
    func publish(_ subject: String, _ payload: String, replyTo: String? = nil) throws {
        try components.writeBuffer.append(messages: 1, payloadBytes: payload.utf8.count) {
            ClientOperation.appendPublish(
                into: $0, subject: subject, replyTo: replyTo, payload: Array(payload.utf8))
        }
    }

    /// A subscription whose messages are collected; its sid.
    func subscribe(_ subject: String, into inbox: Inbox) -> UInt64 {
        components.registry.add(subject: subject, queue: nil, sink: .handler { inbox.add($0) })
    }
}

/// Messages a handler received.
final class Inbox: Sendable {
    private let messages = Mutex<[NATSMessage]>([])
    func add(_ message: NATSMessage) { messages.withLock { $0.append(message) } }
    var all: [NATSMessage] { messages.withLock { $0 } }
}

/// The connection loop alone, over a socketpair with the test as the server: keepalive,
/// routing, writing, errors and shutdown, without a nats-server.
@Suite(.timeLimit(.minutes(2))) struct ConnectionLoopTests {
    @Test func answersServerPingsAndWritesWhatPublishersBuffer() async throws {
        let harness = try LoopHarness()
        harness.peer.send("PING\r\n")
        #expect(try await harness.peer.receive(until: "PONG\r\n") == "PONG\r\n")
        try harness.publish("orders.new", "hello", replyTo: "_INBOX.r1")
        #expect(
            try await harness.peer.receive(until: "hello\r\n") == "PUB orders.new _INBOX.r1 5\r\nhello\r\n")
        harness.stop()
        #expect(await harness.ended.value == .stopped)
        harness.peer.close()
    }

    @Test func aStreamOfPublishesArrivesWholeAndInOrder() async throws {
        let harness = try LoopHarness()
        let count = 20_000
        // The peer reads while the publishers write: the socket and the write buffer are
        // bounded, and a full buffer makes publishers wait.
        let received = harness.peer.startReceiving(until: "PUB s 5\r\n\(count - 1)\r\n")
        for index in 0..<count { try harness.publish("s", String(index)) }
        let text = try await received.value
        let payloads = text.split(separator: "\r\n").enumerated().filter { $0.offset % 2 == 1 }.map {
            String($0.element)
        }
        #expect(payloads == (0..<count).map(String.init))
        harness.stop()
        #expect(await harness.ended.value == .stopped)
        harness.peer.close()
    }

    @Test func routesMessagesToTheirSubscription() async throws {
        let harness = try LoopHarness()
        let orders = Inbox()
        let other = Inbox()
        let sid = harness.subscribe("orders.*", into: orders)
        _ = harness.subscribe("other", into: other)
        harness.peer.send(
            "MSG orders.new \(sid) 5\r\nfirst\r\nMSG orders.old \(sid) _INBOX.x 6\r\nsecond\r\n")
        // A message for a sid nobody has (unsubscribed meanwhile) is dropped, not an error.
        harness.peer.send("MSG gone 999 1\r\nx\r\nPING\r\n")
        _ = try await harness.peer.receive(until: "PONG\r\n")  // everything before the PING was handled
        #expect(orders.all.map(\.string) == ["first", "second"])
        #expect(
            orders.all.map(\.subject) == ["orders.new", "orders.old"]
                && orders.all.last?.replyTo == "_INBOX.x")
        #expect(other.all.isEmpty)
        harness.stop()
        #expect(await harness.ended.value == .stopped)
        harness.peer.close()
    }

    @Test func requestsAreMatchedToTheirRepliesAndExpireOnTime() async throws {
        let harness = try LoopHarness()
        let mux = harness.components.mux
        let sid = harness.components.registry.add(
            subject: mux.subscriptionSubject, queue: nil, sink: .handler { mux.deliver($0) })
        /// A request as `NATSClient.request` makes it: token, registration, the publish.
        func request(_ payload: String, deadline: Duration) -> Task<Result<String, NATSError>, Never> {
            let (token, replyTo) = mux.reserveToken()
            return Task {
                do {
                    let reply = try await withCheckedThrowingContinuation { continuation in
                        mux.start(token, deadline: .after(deadline), continuation: continuation) {
                            try? harness.publish("svc", payload, replyTo: replyTo)
                        }
                    }
                    return .success(reply.string)
                } catch let error as NATSError {
                    return .failure(error)
                } catch {
                    return .failure(NATSError(.timeout, "\(error)"))
                }
            }
        }
        let answered = request("ping", deadline: .seconds(30))
        let line = try await harness.peer.receive(until: "ping\r\n")
        let replyTo = try #require(line.split(separator: " ").dropFirst(2).first.map(String.init))
        harness.peer.send("MSG \(replyTo) \(sid) 4\r\npong\r\n")
        #expect(await answered.value == .success("pong"))
        // Nobody answers this one: the loop's timer fails it at its deadline.
        let unanswered = request("lost", deadline: .milliseconds(50))
        _ = try await harness.peer.receive(until: "lost\r\n")
        guard case .failure(let error) = await unanswered.value else {
            Issue.record("an unanswered request succeeded")
            return
        }
        #expect(error.kind == .timeout)
        #expect(mux.pendingCount == 0)
        harness.stop()
        #expect(await harness.ended.value == .stopped)
        harness.peer.close()
    }

    @Test func aMalformedFrameEndsTheLoopWithAClearError() async throws {
        let harness = try LoopHarness()
        harness.peer.send("MSG orders.new notasid 5\r\nhello\r\n")
        guard case .failed(let kind, let message) = await harness.ended.value else {
            Issue.record("the loop went on after a malformed frame")
            return
        }
        #expect(kind == .protocolViolation && !message.isEmpty)
        harness.peer.close()
    }

    @Test func theServerClosingEndsTheLoop() async throws {
        let harness = try LoopHarness()
        harness.peer.close()
        #expect(await harness.ended.value == .failed(.connectionClosed, "the server closed the connection"))
    }

    @Test func anAuthorizationErrorEndsTheLoop() async throws {
        let harness = try LoopHarness()
        harness.peer.send("-ERR 'Authorization Violation'\r\n")
        guard case .failed(let kind, _) = await harness.ended.value else {
            Issue.record("the loop went on after the server's closing error")
            return
        }
        #expect(kind == .authorizationViolation)
        harness.peer.close()
    }

    @Test func aServerThatStopsAnsweringKeepalivesIsStale() async throws {
        // Pings every 20 ms, never answered: at the third the loop gives up, having sent two.
        // Nothing here depends on how fast anything answers.
        let harness = try LoopHarness(pingInterval: .milliseconds(20), maxPingsOutstanding: 2)
        #expect(await harness.ended.value == .failed(.staleConnection, "no PONG for 2 keepalive PINGs"))
        let sent = try await harness.peer.receiveAll()
        #expect(sent == "PING\r\nPING\r\n")
        harness.peer.close()
    }
}
