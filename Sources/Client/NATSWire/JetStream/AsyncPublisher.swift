import Synchronization

/// The acknowledgement of one asynchronous publish, once the stream sends it.
public final class PubAckFuture: Sendable {
    private let state = Mutex<
        (result: Result<PubAck, any Error>?, waiters: [CheckedContinuation<PubAck, any Error>])
    >(
        (nil, []))
    let deadline: ContinuousClock.Instant

    init(deadline: ContinuousClock.Instant) { self.deadline = deadline }

    /// The stream's acknowledgement, or why there is none (a ``JetStreamError``, or a
    /// `timeout` ``NATSError`` after the publisher's timeout).
    public var value: PubAck {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let done = state.withLock { state -> Result<PubAck, any Error>? in
                    if state.result == nil { state.waiters.append(continuation) }
                    return state.result
                }
                if let done { continuation.resume(with: done) }
            }
        }
    }

    /// Whether the outcome is known.
    public var isDone: Bool { state.withLock { $0.result != nil } }

    func resolve(_ result: Result<PubAck, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<PubAck, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}

/// Publishes to streams without waiting for each acknowledgement: at most `maxPending`
/// unacknowledged at once (a publish waits for room beyond that), each with a
/// ``PubAckFuture``. Messages go out in the order `publish` is called; acknowledgements come
/// back on one inbox subscription.
///
/// ```swift
/// let publisher = try js.asyncPublisher(maxPending: 256)
/// for order in orders { _ = try await publisher.publish(order.json, to: "orders.new") }
/// try await publisher.complete()
/// ```
public final class JetStreamPublisher: Sendable {
    /// The most acknowledgements waited for at once; a publish beyond waits for a slot.
    public let maxPending: Int
    /// How long an acknowledgement may take before its future fails.
    public let timeout: Duration
    private let client: NATSClient
    private let inbox: String
    /// Waiting publishers resume once the acknowledgements outstanding are down to this.
    private let resumeLevel: Int
    private let state = Mutex(State())
    private let sweeper = Mutex<Task<Void, Never>?>(nil)
    private let subscription = Mutex<NATSSubscriptionHandle?>(nil)

    private struct State {
        var pending: [UInt64: PubAckFuture] = [:]
        var nextToken: UInt64 = 1
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var closed = false
    }

    init(client: NATSClient, maxPending: Int, timeout: Duration) throws {
        self.client = client
        self.maxPending = max(1, maxPending)
        resumeLevel = self.maxPending - max(1, self.maxPending / 4)
        self.timeout = timeout
        inbox = client.newInbox() + "."
        let handle = try client.subscribe(to: inbox + "*") { [weak self] message in self?.receive(message) }
        subscription.withLock { $0 = handle }
        // Acknowledgements that never come: failed at their deadline, which also frees room.
        let sweep = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                self?.expire(now: .now)
            }
        }
        sweeper.withLock { $0 = sweep }
    }

    deinit {
        sweeper.withLock { $0?.cancel() }
        try? subscription.withLock { $0 }?.unsubscribe()
    }

    /// Publishes `payload` once there is room; returns its future acknowledgement.
    public func publish(
        _ payload: [UInt8], to subject: String, headers: NATSHeaders? = nil, options: PublishOptions = .init()
    ) async throws -> PubAckFuture {
        try await waitForRoom()
        let future = PubAckFuture(deadline: .now.advanced(by: timeout))
        let token = state.withLock { state in
            defer { state.nextToken += 1 }
            state.pending[state.nextToken] = future
            return state.nextToken
        }
        var all = headers ?? NATSHeaders()
        options.apply(to: &all)
        do {
            try client.publish(
                payload, to: subject, replyTo: InboxToken.subject(inbox, token),
                headers: all.isEmpty ? nil : all)
        } catch {
            settle(token, .failure(error))
            throw error
        }
        return future
    }

    /// Acknowledgements not arrived yet.
    public var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Waits until every publish so far is acknowledged or failed.
    public func complete() async throws {
        while pendingCount > 0 {
            await withCheckedContinuation { continuation in
                let wait = state.withLock { state -> Bool in
                    guard !state.pending.isEmpty else { return false }
                    state.roomWaiters.append(continuation)
                    return true
                }
                if !wait { continuation.resume() }
            }
        }
    }

    /// Stops: pending acknowledgements fail, later publishes are refused.
    public func close() {
        let pending = state.withLock { state -> [PubAckFuture] in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for future in pending { future.resolve(.failure(NATSError(.closed, "the publisher was closed"))) }
        wakeRoomWaiters()
        sweeper.withLock { $0?.cancel() }
        try? subscription.withLock { $0 }?.unsubscribe()
    }

    private func waitForRoom() async throws {
        while true {
            let full = try state.withLock { (state) throws(NATSError) -> Bool in
                if state.closed { throw NATSError(.closed, "the publisher was closed") }
                return state.pending.count >= maxPending
            }
            guard full else { return }
            await withCheckedContinuation { continuation in
                let wait = state.withLock { state -> Bool in
                    guard state.pending.count >= maxPending, !state.closed else { return false }
                    state.roomWaiters.append(continuation)
                    return true
                }
                if !wait { continuation.resume() }
            }
        }
    }

    /// I/O thread: an acknowledgement (or a no-responders status) on the inbox.
    private func receive(_ message: NATSMessage) {
        guard let token = InboxToken.parse(message.subject, after: inbox.utf8.count) else { return }
        if message.status == 503 {
            settle(
                token,
                .failure(
                    JetStreamError(code: 503, errorCode: 0, description: "no stream captures the subject")))
        } else {
            settle(
                token,
                Result {
                    try PubAck.parse(message.payload) ?? JetStream.decode(message.payload, as: PubAck.self)
                })
        }
    }

    private func settle(_ token: UInt64, _ result: Result<PubAck, any Error>) {
        let settled = state.withLock { state -> (PubAckFuture, [CheckedContinuation<Void, Never>])? in
            guard let future = state.pending.removeValue(forKey: token) else { return nil }
            // A full window reopens a quarter at a time: the waiting publisher then sends a
            // burst that leaves in one write, instead of one message (and one wake-up of it
            // and of the I/O thread) per acknowledgement.
            guard state.pending.count <= resumeLevel else { return (future, []) }
            defer { state.roomWaiters = [] }
            return (future, state.roomWaiters)
        }
        guard let (future, waiters) = settled else { return }
        future.resolve(result)
        for waiter in waiters { waiter.resume() }
    }

    private func expire(now: ContinuousClock.Instant) {
        let expired = state.withLock { state -> [PubAckFuture] in
            let late = state.pending.filter { $0.value.deadline <= now }
            for token in late.keys { state.pending.removeValue(forKey: token) }
            return Array(late.values)
        }
        guard !expired.isEmpty else { return }
        for future in expired {
            future.resolve(.failure(NATSError(.timeout, "no acknowledgement within \(timeout)")))
        }
        wakeRoomWaiters()
    }

    private func wakeRoomWaiters() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.roomWaiters = [] }
            return state.roomWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension JetStream {
    /// A publisher that keeps up to `maxPending` acknowledgements outstanding.
    public func asyncPublisher(maxPending: Int = 256) throws -> JetStreamPublisher {
        try JetStreamPublisher(client: client, maxPending: maxPending, timeout: timeout)
    }
}
