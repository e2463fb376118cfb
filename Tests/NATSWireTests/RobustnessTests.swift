import Foundation
import NATSWire
import TestHarness
import Testing

@Suite("Hostile servers and edge cases", .timeLimit(.minutes(5)))
struct RobustnessTests {
    @Test(arguments: [
        "MSG foo x 5\r\nhello\r\n",
        "MSG foo 1 5\r\nhelloXX",
        "BOGUS\r\n",
        "HMSG foo 1 99 10\r\n",
        "MSG foo 1 999999999999\r\n",
        String(repeating: "A", count: 5000),
    ])
    func malformedFrameClosesTheConnectionWithAClearError(_ garbage: String) async throws {
        let server = try ScriptedServer(afterHandshake: Array(garbage.utf8))
        // The garbage follows the handshake's PONG at once: connect succeeds, then the
        // connection closes with the parser's reason; calls after that fail with it.
        let nats = try await connect(server.url) { $0.reconnect = .disabled }
        #expect(await eventually { nats.status == .closed })
        do {
            try nats.publish("x", to: "foo")
            Issue.record("publish on a connection closed by a protocol violation")
        } catch {
            #expect(error.kind == .protocolViolation)
        }
        #expect(nats.closeReason?.kind == .protocolViolation)
        await nats.close()
    }

    @Test func closingServerErrorEndsTheConnectionAtOnce() async throws {
        // A server that sends a closing -ERR (as on max connections) but keeps the socket open.
        let server = try ScriptedServer(afterHandshake: Array("-ERR 'maximum connections exceeded'\r\n".utf8))
        // The PONG came first, so connect succeeds; the -ERR then closes the connection at
        // once, without waiting for the server to hang up.
        let nats = try await connect(server.url) { $0.reconnect = .disabled }
        #expect(await eventually(timeout: .seconds(2)) { nats.status == .closed })
        #expect(nats.closeReason?.message.contains("maximum connections") == true)
    }

    @Test func verboseModeHandlesOK() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url) { $0.verbose = true }
            let subscription = try nats.subscribe(to: "v")
            try nats.publish("1", to: "v")
            try await nats.flush()
            #expect(try await collect(subscription, count: 1).first?.string == "1")
            await nats.close()
        }
    }

    @Test func customInboxPrefix() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url) { $0.inboxPrefix = "_MY.replies" }
            let probe = try nats.subscribe(to: "probe")
            try await nats.flush()
            let seenReplyTo = Task { () -> String? in
                for try await message in probe {
                    try nats.reply(to: message, with: Array("pong".utf8))
                    return message.replyTo
                }
                return nil
            }
            let answer = try await nats.request("ping", to: "probe")
            #expect(answer.string == "pong")
            #expect(try await seenReplyTo.value?.hasPrefix("_MY.replies.") == true)
            await nats.close()
            await #expect(throws: NATSError.self) {
                _ = try await NATSClient.connect(
                    NATSOptions(url: server.url).with { $0.inboxPrefix = "bad prefix" })
            }
        }
    }

    /// Anyone who sees a request's reply subject can send to the requester's inbox: a reply
    /// whose token is past the largest 64-bit number (it trapped the multiplexer) or no token
    /// at all is dropped, and the real reply still arrives.
    @Test func repliesWithBadTokensAreDropped() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let responder = try await connect(server.url)
            let service = try responder.subscribe(to: "svc")
            try await responder.flush()
            let answering = Task {
                for try await message in service {
                    guard let replyTo = message.replyTo, let dot = replyTo.lastIndex(of: ".") else {
                        continue
                    }
                    let prefix = replyTo[...dot]
                    for bad in ["3w5e11264sgsg", "zzzzzzzzzzzzzzzzzzzz", "X", "1.2"] {
                        try responder.publish("spoof", to: prefix + bad)
                    }
                    try responder.reply(to: message, with: Array("real".utf8))
                    return
                }
            }
            let answer = try await nats.request("ping", to: "svc")
            #expect(answer.string == "real")
            try await answering.value
            #expect(nats.status == .connected)
            await responder.close()
            await nats.close()
        }
    }

    @Test func hostNamesAreResolved() async throws {
        try await withNATSServer { server in
            // "localhost" may resolve to ::1 first; the client must fall through to 127.0.0.1.
            let nats = try await NATSClient.connect(url: "nats://localhost:\(server.port)")
            try await nats.flush()
            await nats.close()
        }
    }

    /// Whether this machine has an IPv6 loopback to listen on (containers often have none).
    static let hasIPv6Loopback: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }()

    @Test(.enabled(if: hasIPv6Loopback, "this machine has no IPv6 loopback (::1)"))
    func ipv6Loopback() async throws {
        let server = try NATSServer(host: "::1")
        defer { server.stop() }
        let nats = try await NATSClient.connect(url: "nats://[::1]:\(server.port)")
        let subscription = try nats.subscribe(to: "six")
        try nats.publish("v6", to: "six")
        #expect(try await collect(subscription, count: 1).first?.string == "v6")
        await nats.close()
    }

    @Test func closeIsIdempotentAndFailsLaterCalls() async throws {
        try await withNATSServer { server in
            let nats = try await connect(server.url)
            let subscription = try nats.subscribe(to: "x")
            await nats.close()
            await nats.close()
            #expect(nats.status == .closed)
            var count = 0
            for try await _ in subscription { count += 1 }
            #expect(count == 0)
            #expect(throws: NATSError.self) { try nats.publish("x", to: "x") }
            await #expect(throws: NATSError.self) { try await nats.flush() }
            await #expect(throws: NATSError.self) { _ = try await nats.request("x", to: "x") }
        }
    }

    @Test func messagesBufferedBeforeCloseAreSent() async throws {
        try await withNATSServer { server in
            let receiver = try await connect(server.url)
            let subscription = try receiver.subscribe(to: "last.words")
            try await receiver.flush()
            let sender = try await connect(server.url)
            for i in 0..<10_000 { try sender.publish("\(i)", to: "last.words") }
            await sender.close()  // no flush: close itself must write what was buffered
            let messages = try await collect(subscription, count: 10_000)
            #expect(messages.last?.string == "9999")
            await receiver.close()
        }
    }
}

extension NATSOptions {
    func with(_ change: (inout NATSOptions) -> Void) -> NATSOptions {
        var copy = self
        change(&copy)
        return copy
    }
}
