import Synchronization

/// The buffer between the I/O thread and one subscription's consumer task.
///
/// The I/O thread pushes; the consumer takes everything queued in one batch, so a consumer
/// that keeps up pays one lock per batch rather than per message. Limits bound memory: past
/// ``PendingLimits`` messages are dropped and counted (a slow consumer), never buffered.
final class MessageQueue: Sendable {
    enum Batch: Sendable {
        case messages([NATSMessage])
        case finished
        case failed(NATSError)
    }

    enum PushResult {
        case queued
        /// Dropped, the first since the consumer last caught up: a slow-consumer episode
        /// starts (reported once, as nats.go does).
        case droppedFirst
        case dropped
        case closed
    }

    private struct State {
        var items: [NATSMessage] = []
        var bytes = 0
        var waiter: UnsafeContinuation<Batch, Never>?
        var end: Batch?
        var dropped: UInt64 = 0
        /// Every message that arrived, queued or dropped.
        var received: UInt64 = 0
        /// Dropping since the consumer last took a batch.
        var isSlow = false
        /// Waiting for the consumer to take everything after the end (drain).
        var consumedWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let limits: PendingLimits
    private let state = Mutex(State())

    init(limits: PendingLimits) { self.limits = limits }

    /// I/O thread: queues `message`, or hands it straight to a waiting consumer.
    @discardableResult
    func push(_ message: NATSMessage) -> PushResult {
        let (waiter, result) = state.withLock { s -> (UnsafeContinuation<Batch, Never>?, PushResult) in
            if s.end != nil { return (nil, .closed) }
            s.received &+= 1
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, .queued)
            }
            let size = message.payload.count
            if (limits.messages > 0 && s.items.count >= limits.messages)
                || (limits.bytes > 0 && s.bytes + size > limits.bytes)
            {
                s.dropped &+= 1
                if s.isSlow { return (nil, .dropped) }
                s.isSlow = true
                return (nil, .droppedFirst)
            }
            s.items.append(message)
            s.bytes += size
            return (nil, .queued)
        }
        waiter?.resume(returning: .messages([message]))
        return result
    }

    /// Ends the queue once what is queued has been taken; `error` makes the consumer throw.
    func finish(_ error: NATSError? = nil) {
        let waiter = state.withLock { s -> UnsafeContinuation<Batch, Never>? in
            if s.end == nil { s.end = error.map { .failed($0) } ?? .finished }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: error.map { .failed($0) } ?? .finished)
    }

    /// Consumer: everything queued, waiting if there is nothing yet.
    func nextBatch() async -> Batch {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Batch, Never>) in
                var consumed: [CheckedContinuation<Void, Never>] = []
                let ready = state.withLock { s -> Batch? in
                    if !s.items.isEmpty {
                        let items = s.items
                        s.items = []
                        s.bytes = 0
                        s.isSlow = false
                        if s.end != nil { swap(&consumed, &s.consumedWaiters) }
                        return .messages(items)
                    }
                    if let end = s.end {
                        swap(&consumed, &s.consumedWaiters)
                        return end
                    }
                    if Task.isCancelled { return .finished }
                    s.waiter = continuation
                    return nil
                }
                for waiter in consumed { waiter.resume() }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> UnsafeContinuation<Batch, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: .finished)
        }
    }

    /// Waits until the queue has ended and the consumer has taken everything (or stopped
    /// iterating), for a drain.
    func waitUntilConsumed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.end != nil && s.items.isEmpty { return true }
                s.consumedWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Messages queued and not yet taken by the consumer.
    var pendingCount: Int { state.withLock { $0.items.count } }

    /// Messages dropped because the limits were reached.
    var droppedCount: UInt64 { state.withLock { $0.dropped } }

    /// Messages that arrived so far, taken or not.
    var receivedCount: UInt64 { state.withLock { $0.received } }
}

/// How much a subscription may hold for a consumer that has not caught up. 0 = unlimited.
public struct PendingLimits: Sendable, Equatable {
    /// The most messages kept; 0 for no limit.
    public var messages: Int
    /// The most payload bytes kept; 0 for no limit.
    public var bytes: Int

    /// Limits of `messages` and `bytes` (0: no limit).
    public init(messages: Int, bytes: Int) {
        self.messages = messages
        self.bytes = bytes
    }

    /// nats.go's defaults: 512 Ki messages, 64 MiB.
    public static let `default` = PendingLimits(messages: 512 * 1024, bytes: 64 * 1024 * 1024)
    /// No limit: nothing is ever dropped (memory grows with a slow consumer).
    public static let unlimited = PendingLimits(messages: 0, bytes: 0)
}
