import Foundation
import Testing

@testable import NATSWire

/// Parses `bytes` fed in the given pieces; returns operations or the first error.
private func parse(_ pieces: [[UInt8]], maxPayload: Int = ProtocolParser.defaultMaxInboundPayload) -> (
    [ServerOperation], ProtocolViolation?
) {
    let parser = ProtocolParser(initialCapacity: 256, maxInboundPayload: maxPayload)
    var out: [ServerOperation] = []
    do {
        for piece in pieces {
            parser.append(piece)
            while let op = try parser.next() { out.append(op) }
        }
    } catch {
        return (out, error)
    }
    return (out, nil)
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("Protocol parser", .timeLimit(.minutes(5)))
struct ParserTests {
    static let info =
        #"INFO {"server_id":"S1","version":"2.9.10","proto":1,"headers":true,"max_payload":1048576,"connect_urls":["10.0.0.1:4222"],"ldm":false}"#
    static let mixedStream: String =
        info + "\r\n"
        + "MSG foo.bar 1 5\r\nhello\r\n"
        + "msg\tfoo.baz  2   _INBOX.abc.1  0\r\n\r\n"
        + "PING\r\nPONG\r\n+OK\r\n"
        + "HMSG hdr 3 reply.to 39 44\r\nNATS/1.0\r\nA: 1\r\nA: 2\r\nMixed-Case: v\r\n\r\nworld\r\n"
        + "HMSG status 4 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
        + "-ERR 'Permissions Violation for Publish to \"x\"'\r\n"
        + "MSG big 9 300\r\n" + String(repeating: "z", count: 300) + "\r\n"

    @Test func parsesEveryOperationOfAMixedStream() throws {
        let (ops, error) = parse([bytes(Self.mixedStream)])
        #expect(error == nil)
        try #require(ops.count == 10)
        guard case .info(let info) = ops[0] else { Issue.record("not INFO"); return }
        #expect(info.serverID == "S1" && info.proto == 1 && info.headers && info.maxPayload == 1_048_576)
        #expect(info.connectURLs == ["10.0.0.1:4222"])
        #expect(ops[1] == .message(sid: 1, NATSMessage(subject: "foo.bar", payload: bytes("hello"))))
        #expect(
            ops[2] == .message(sid: 2, NATSMessage(subject: "foo.baz", replyTo: "_INBOX.abc.1", payload: [])))
        #expect(ops[3] == .ping && ops[4] == .pong && ops[5] == .ok)
        guard case .message(3, let hmsg) = ops[6] else { Issue.record("not HMSG"); return }
        #expect(hmsg.replyTo == "reply.to" && hmsg.string == "world")
        #expect(hmsg.headers?.values(for: "A") == ["1", "2"])
        #expect(hmsg.headers?["mixed-case"] == "v")
        #expect(hmsg.headers?.fields.map(\.name) == ["A", "A", "Mixed-Case"])
        guard case .message(4, let status) = ops[7] else { Issue.record("not status"); return }
        #expect(status.status == 503 && status.payload.isEmpty)
        #expect(ops[8] == .error("Permissions Violation for Publish to \"x\""))
        guard case .message(9, let big) = ops[9] else { Issue.record("not big"); return }
        #expect(big.payload == [UInt8](repeating: UInt8(ascii: "z"), count: 300))
    }

    @Test func everySplitPositionParsesTheSame() {
        let stream = bytes(Self.mixedStream)
        let (whole, _) = parse([stream])
        for cut in 0...stream.count {
            let (ops, error) = parse([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(error == nil, "split at \(cut)")
            #expect(ops == whole, "split at \(cut)")
        }
        // Three pieces, a few thousand combinations.
        for a in stride(from: 0, through: stream.count, by: 7) {
            for b in stride(from: a, through: stream.count, by: 13) {
                let (ops, _) = parse([Array(stream[..<a]), Array(stream[a..<b]), Array(stream[b...])])
                #expect(ops == whole, "split at \(a), \(b)")
            }
        }
    }

    @Test func byteByByteParsesTheSame() {
        let stream = bytes(Self.mixedStream)
        let (whole, _) = parse([stream])
        let (ops, error) = parse(stream.map { [$0] })
        #expect(error == nil)
        #expect(ops == whole)
    }

    @Test func headerStatusWithDescription() throws {
        let block = "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n"
        let (ops, error) = parse([bytes("HMSG a 1 \(block.utf8.count) \(block.utf8.count)\r\n\(block)\r\n")])
        #expect(error == nil)
        guard case .message(_, let message)? = ops.first else { Issue.record("no message"); return }
        #expect(message.status == 408)
        #expect(message.headers?.statusDescription == "Request Timeout")
        #expect(message.headers?["Nats-Pending-Messages"] == "1")

        let idle = "NATS/1.0 100 Idle Heartbeat\r\n\r\n"
        let (ops2, _) = parse([bytes("HMSG a 1 \(idle.utf8.count) \(idle.utf8.count)\r\n\(idle)\r\n")])
        guard case .message(_, let heartbeat)? = ops2.first else { Issue.record("no message"); return }
        #expect(heartbeat.status == 100 && heartbeat.headers?.statusDescription == "Idle Heartbeat")
    }

    @Test(arguments: [
        "FOO bar\r\n",
        "MSG foo\r\n",
        "MSG foo x 5\r\nhello\r\n",
        "MSG foo 1 -5\r\nhello\r\n",
        "MSG foo 1 5 6 7\r\nhello\r\n",
        "MSG foo 1 5\r\nhelloXY",
        "MSG foo 1 99999999999999999999999\r\n",
        "HMSG foo 1 50 10\r\n",
        "HMSG foo 1 12 12\r\nNOPE/1.0\r\n\r\n\r\n",
        "HMSG foo 1 16 16\r\nNATS/1.0 5x3\r\n\r\n\r\n",
        "PING extra\r\n",
        "INFO {not json}\r\n",
        "\r\n",
    ])
    func malformedInputIsAnErrorNotACrash(_ input: String) {
        let (ops, error) = parse([bytes(input)])
        #expect(error != nil, "accepted \(input.debugDescription) as \(ops)")
    }

    @Test func controlLineLimit() {
        let long = "MSG " + String(repeating: "a", count: 5000)
        let (_, error) = parse([bytes(long)])
        #expect(error?.reason.contains("control line") == true)
        // Split the same line: also rejected once over the limit, without waiting for LF.
        let (_, error2) = parse([bytes(String(long.prefix(3000))), bytes(String(long.dropFirst(3000)))])
        #expect(error2 != nil)
        // A long INFO is fine.
        let urls = (0..<300).map { "\"10.0.\($0 / 256).\($0 % 256):4222\"" }.joined(separator: ",")
        let (ops, error3) = parse([bytes("INFO {\"server_id\":\"x\",\"connect_urls\":[\(urls)]}\r\n")])
        #expect(error3 == nil && ops.count == 1)
    }

    @Test func hugeSizeIsRejectedBeforeBuffering() {
        let (_, error) = parse([bytes("MSG foo 1 1073741824\r\n")], maxPayload: 64 << 20)
        #expect(error != nil)
    }

    @Test func largePayloadAcrossManyReads() {
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        var stream = bytes("MSG big 1 \(payload.count)\r\n")
        stream += payload + bytes("\r\n")
        let pieces = stride(from: 0, to: stream.count, by: 4093).map {
            Array(stream[$0..<min($0 + 4093, stream.count)])
        }
        let (ops, error) = parse(pieces)
        #expect(error == nil)
        #expect(ops == [.message(sid: 1, NATSMessage(subject: "big", payload: payload))])
    }
}

@Suite("Wire encoding, subjects, NUID, URLs", .timeLimit(.minutes(5)))
struct EncodingTests {
    @Test func publishEncoding() throws {
        let out = ByteBuffer()
        ClientOperation.appendPublish(into: out, subject: "a.b", replyTo: nil, payload: bytes("hi"))
        ClientOperation.appendPublish(into: out, subject: "a", replyTo: "r", payload: [UInt8]())
        #expect(String(decoding: out.array, as: UTF8.self) == "PUB a.b 2\r\nhi\r\nPUB a r 0\r\n\r\n")

        var headers = NATSHeaders()
        headers.append("1", for: "X-Key")
        headers.append("2", for: "X-Key")
        var block: [UInt8] = []
        try headers.encode(into: &block)
        let hpub = ByteBuffer()
        ClientOperation.appendPublish(
            into: hpub, subject: "s", replyTo: nil, headerBlock: block, payload: bytes("xyz"))
        let text = String(decoding: hpub.array, as: UTF8.self)
        #expect(text == "HPUB s 32 35\r\nNATS/1.0\r\nX-Key: 1\r\nX-Key: 2\r\n\r\nxyz\r\n")
        // And the parser reads back what the encoder wrote (as the server would relay it).
        let relayed = "HMSG s 1 32 35\r\n" + text.split(separator: "\r\n", maxSplits: 1)[1]
        let (ops, error) = parse([bytes(String(relayed))])
        #expect(error == nil)
        guard case .message(_, let message)? = ops.first else { Issue.record("no message"); return }
        #expect(message.headers?.values(for: "X-Key") == ["1", "2"] && message.string == "xyz")
    }

    @Test func headerInjectionIsRefused() {
        var headers = NATSHeaders()
        headers.append("a\r\nPUB evil 0", for: "X")
        var out: [UInt8] = []
        #expect(throws: NATSError.self) { try headers.encode(into: &out) }
        var bad = NATSHeaders()
        bad.append("v", for: "Bad Name")
        #expect(throws: NATSError.self) { try bad.encode(into: &out) }
    }

    @Test func decimalEncoding() {
        for value in [0, 7, 10, 99, 100, 12345, Int(Int32.max), Int.max] {
            let out = ByteBuffer()
            ClientOperation.appendDecimal(value, into: out)
            #expect(String(decoding: out.array, as: UTF8.self) == String(value))
        }
    }

    @Test(arguments: ["foo", "foo.bar", "a.b.c.d", "$SRV.PING", "_INBOX.x.y", "foo-bar_baz", "a*b", "ü.x"])
    func validPublishSubjects(_ subject: String) {
        #expect(Subject.isValidPublish(subject))
        #expect(Subject.isValidSubscribe(subject))
    }

    @Test(arguments: [
        "", "foo..bar", ".foo", "foo.", "foo bar", "foo\tbar", "foo\r\n", "*", "foo.>", "a.*.b",
    ])
    func invalidPublishSubjects(_ subject: String) {
        #expect(!Subject.isValidPublish(subject))
    }

    @Test(arguments: ["*", ">", "foo.*", "foo.>", "*.bar.>", "a.*.b"])
    func validWildcardSubscriptions(_ subject: String) {
        #expect(Subject.isValidSubscribe(subject))
    }

    @Test(arguments: [">.foo", "foo.>.bar", "foo..*", "", "foo. bar", "a.>.>"])
    func invalidSubscriptions(_ subject: String) {
        #expect(!Subject.isValidSubscribe(subject))
    }

    @Test func nuidsAreUniqueAndWellFormed() {
        var generator = NUID()
        var seen = Set<String>()
        let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        for _ in 0..<100_000 {
            let id = generator.next()
            #expect(id.count == 22)
            #expect(id.allSatisfy { alphabet.contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 100_000)
        var one = NUID()
        var two = NUID()
        #expect(one.next().prefix(12) != two.next().prefix(12))
    }

    @Test func serverURLs() throws {
        let a = try ServerAddress(parsing: "nats://user:p%40ss@example.com:4333")
        #expect(a.host == "example.com" && a.port == 4333 && a.user == "user" && a.password == "p@ss")
        let b = try ServerAddress(parsing: "tls://[::1]:5000")
        #expect(b.host == "::1" && b.port == 5000 && b.wantsTLS)
        let c = try ServerAddress(parsing: "localhost")
        #expect(c.host == "localhost" && c.port == 4222)
        let d = try ServerAddress(parsing: "nats://s3cret@10.0.0.1")
        #expect(d.token == "s3cret" && d.port == 4222)
        #expect(throws: NATSError.self) { try ServerAddress(parsing: "http://x") }
        #expect(throws: NATSError.self) { try ServerAddress(parsing: "nats://host:99999") }
        #expect(throws: NATSError.self) { try ServerAddress(parsing: "nats://") }
    }

    @Test func stateMachine() {
        var machine = ConnectionStateMachine()
        #expect(machine.status == .connecting)
        var changed = machine.connected()
        #expect(changed)
        machine.disconnected(willReconnect: true)
        #expect(machine.status == .reconnecting)
        changed = machine.connected()
        #expect(changed)
        changed = machine.closeRequested()
        #expect(changed)
        changed = machine.closeRequested()
        #expect(!changed)
        changed = machine.connected()
        #expect(!changed)
        machine.closed(reason: nil)
        #expect(machine.status == .closed && machine.closeReason == nil)
    }

    @Test func deadlineHeapOrders() {
        var heap = DeadlineHeap()
        let values: [UInt64] = [50, 10, 40, 30, 20, 60, 5]
        for (i, v) in values.enumerated() { heap.insert(Deadline(nanoseconds: v), UInt64(i)) }
        heap.removeAll { $0 == 6 }  // drop the 5
        var out: [UInt64] = []
        while let min = heap.min {
            out.append(min.deadline.nanoseconds)
            heap.removeMin()
        }
        #expect(out == [10, 20, 30, 40, 50, 60])
    }
}

/// Formats NATSWire writes without Foundation's formatters (it uses FoundationEssentials only).
@Suite(.timeLimit(.minutes(5))) struct WireFormatTests {
    @Test func discoveryTimestampsAreRFC3339InUTCWithMilliseconds() {
        #expect(ServiceDiscovery.timestamp(Date(timeIntervalSince1970: 1.5)) == "1970-01-01T00:00:01.500Z")
        #expect(
            ServiceDiscovery.timestamp(Date(timeIntervalSince1970: 1_764_605_470.25))
                == "2025-12-01T16:11:10.250Z")
    }

    @Test func base64URLHasTheURLAlphabetAndNoPadding() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encode(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw")
    }
}
