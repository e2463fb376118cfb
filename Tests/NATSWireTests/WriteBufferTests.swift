import Foundation
import Synchronization
import Testing

@testable import NATSWire

/// A transport that records what is written and takes at most `accept` bytes per write.
private final class RecordingTransport: Transport, @unchecked Sendable {
    // @unchecked Sendable: `written` and `accept` sit behind the Mutex.
    private let state = Mutex<(written: [UInt8], accept: Int)>(([], Int.max))
    let fileDescriptor: Int32 = -1
    let hasBufferedInput = false
    let allowsConcurrentWrite: Bool

    init(allowsConcurrentWrite: Bool = true) { self.allowsConcurrentWrite = allowsConcurrentWrite }

    var written: String { state.withLock { String(decoding: $0.written, as: UTF8.self) } }
    func accept(_ count: Int) { state.withLock { $0.accept = count } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NATSError) -> ReadOutcome { .wouldBlock }
    func write(_ bytes: UnsafeRawBufferPointer) throws(NATSError) -> Int {
        state.withLock { s in
            let count = min(bytes.count, s.accept)
            s.written += bytes.prefix(count)
            return count
        }
    }
    func close() {}
}

/// The outbound buffer alone: coalescing, the I/O thread's take, direct writes, wake-ups,
/// the reconnect buffer and the buffered-PING count. No server, no socket.
@Suite(.timeLimit(.minutes(5))) struct WriteBufferTests {
    private func text(_ string: String) -> (ByteBuffer) throws(NATSError) -> Void {
        { buffer in buffer.append(contentsOf: string.utf8) }
    }

    /// Whether the notifier was signalled since the last call (and resets it).
    private func signalled(_ notifier: EventNotifier) -> Bool {
        var value: UInt64 = 0
        return read(notifier.fileDescriptor, &value, 8) == 8 && value > 0
    }

    @Test func appendsCoalesceUntilTheIOThreadTakesThem() throws {
        let notifier = try EventNotifier()
        let buffer = WriteBuffer(limit: 1 << 20, waitTimeout: .seconds(1), notifier: notifier)
        try buffer.append(messages: 1, payloadBytes: 1, text("PUB a 1\r\nx\r\n"))
        try buffer.append(messages: 1, payloadBytes: 1, text("PUB b 1\r\ny\r\n"))
        #expect(!signalled(notifier))  // the I/O thread is awake: nobody signals
        var drained = ByteBuffer()
        #expect(buffer.take(into: &drained))
        #expect(String(decoding: drained.bytes, as: UTF8.self) == "PUB a 1\r\nx\r\nPUB b 1\r\ny\r\n")
        #expect(!buffer.take(into: &drained) && buffer.isEmpty)
        #expect(buffer.counters.messages == 2 && buffer.counters.bytes == 2)
    }

    @Test func aSleepingIOThreadIsWokenOnceByTheNextAppend() throws {
        let notifier = try EventNotifier()
        let buffer = WriteBuffer(limit: 1 << 20, waitTimeout: .seconds(1), notifier: notifier)
        #expect(buffer.prepareToSleep())
        try buffer.append(text("PING\r\n"))
        #expect(signalled(notifier))
        try buffer.append(text("PING\r\n"))
        #expect(!signalled(notifier))  // already woken
        // With something pending, the thread may not go to sleep.
        #expect(!buffer.prepareToSleep())
    }

    @Test func aRequestWritesItselfWhenTheIOThreadIsIdle() throws {
        let notifier = try EventNotifier()
        let buffer = WriteBuffer(limit: 1 << 20, waitTimeout: .seconds(1), notifier: notifier)
        let transport = RecordingTransport()
        buffer.attach(transport)
        #expect(buffer.prepareToSleep())
        try buffer.append(writeNow: true, text("PUB req 0\r\n\r\n"))
        #expect(transport.written == "PUB req 0\r\n\r\n" && buffer.isEmpty && !signalled(notifier))
        // What the socket does not take goes back to the buffer for the I/O thread.
        transport.accept(4)
        try buffer.append(writeNow: true, text("PUB two 0\r\n\r\n"))
        #expect(transport.written == "PUB req 0\r\n\r\nPUB ")
        var drained = ByteBuffer()
        #expect(buffer.take(into: &drained))
        #expect(String(decoding: drained.bytes, as: UTF8.self) == "two 0\r\n\r\n")
        #expect(signalled(notifier))
    }

    @Test func noDirectWritesOnTransportsThatForbidThem() throws {
        let notifier = try EventNotifier()
        let buffer = WriteBuffer(limit: 1 << 20, waitTimeout: .seconds(1), notifier: notifier)
        let tls = RecordingTransport(allowsConcurrentWrite: false)
        buffer.attach(tls)
        #expect(buffer.prepareToSleep())
        try buffer.append(writeNow: true, text("PUB x 0\r\n\r\n"))
        #expect(tls.written.isEmpty && !buffer.isEmpty && signalled(notifier))
    }

    @Test func aFullBufferMakesPublishersWaitThenFail() throws {
        let notifier = try EventNotifier()
        let buffer = WriteBuffer(limit: 8, waitTimeout: .milliseconds(50), notifier: notifier)
        try buffer.append(text("0123456789"))
        #expect {
            try buffer.append(text("more"))
        } throws: { ($0 as? NATSError)?.kind == .timeout }
    }

    @Test func whileDisconnectedAppendsAreKeptUpToTheReconnectLimitAndGoAfterThePrefix() throws {
        let notifier = try EventNotifier()
        let buffer = WriteBuffer(
            limit: 1 << 20, waitTimeout: .seconds(1), reconnectLimit: 20, notifier: notifier)
        try buffer.append(pings: 1, text("PING\r\n"))
        // The PING is still unsent when the connection goes: its PONG waiter must survive.
        #expect(buffer.suspend() == 1)
        try buffer.append(text("PUB a 0\r\n\r\n"))
        #expect {
            try buffer.append(text("PUB toolong 0\r\n\r\n"))
        } throws: { ($0 as? NATSError)?.kind == .reconnectBufferFull }
        let subscriptions = ByteBuffer()
        subscriptions.append(contentsOf: "SUB s 1\r\n".utf8)
        buffer.resume(prefix: subscriptions)
        var drained = ByteBuffer()
        #expect(buffer.take(into: &drained))
        #expect(String(decoding: drained.bytes, as: UTF8.self) == "SUB s 1\r\nPING\r\nPUB a 0\r\n\r\n")
        #expect(buffer.suspend() == 0)  // taken for writing: no PING left in the buffer
    }

    @Test func afterAFailureEveryAppendFailsWithIt() throws {
        let notifier = try EventNotifier()
        let buffer = WriteBuffer(limit: 1 << 20, waitTimeout: .seconds(1), notifier: notifier)
        try buffer.append(text("PUB a 0\r\n\r\n"))
        buffer.fail(NATSError(.closed, "closed"))
        #expect(buffer.isEmpty)
        #expect {
            try buffer.append(text("PUB b 0\r\n\r\n"))
        } throws: { ($0 as? NATSError)?.kind == .closed }
    }
}
