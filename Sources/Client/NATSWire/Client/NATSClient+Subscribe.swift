extension NATSClient {
    /// Subscribes to `subject` (wildcards allowed), optionally in a queue group whose members
    /// share the messages. Iterate the returned sequence to receive them.
    ///
    /// Messages beyond `pendingLimits` (default ``NATSOptions/pendingLimits``) that the
    /// consumer has not taken yet are dropped and counted, so memory stays bounded.
    public func subscribe(
        to subject: String, queue: String? = nil, pendingLimits: PendingLimits? = nil
    ) throws(NATSError) -> NATSSubscription {
        let messageQueue = MessageQueue(limits: pendingLimits ?? options.pendingLimits)
        let sid = try addSubscription(subject: subject, queue: queue, sink: .queue(messageQueue))
        return NATSSubscription(
            client: self, sid: sid, subject: subject, queue: queue, messages: messageQueue)
    }

    /// Subscribes with a handler called on the connection's I/O thread for each message:
    /// the fastest way to receive, for handlers that return quickly and never block (a slow
    /// handler holds up every subscription of this client). Publishing from it is fine.
    @discardableResult
    public func subscribe(
        to subject: String, queue: String? = nil, handler: @escaping @Sendable (NATSMessage) -> Void
    ) throws(NATSError) -> NATSSubscriptionHandle {
        let sid = try addSubscription(subject: subject, queue: queue, sink: .handler(handler))
        return NATSSubscriptionHandle(client: self, sid: sid, subject: subject, queue: queue)
    }

    private func addSubscription(subject: String, queue: String?, sink: SubscriptionSink) throws(NATSError)
        -> UInt64
    {
        try Subject.validateSubscribe(subject)
        try checkNotDraining("subscribe")
        if let queue, !Subject.isValidQueueGroup(queue) {
            throw NATSError(.invalidSubject, "\(queue.debugDescription) is not a valid queue group")
        }
        let sid = components.registry.add(subject: subject, queue: queue, sink: sink)
        do {
            try components.writeBuffer.append { out in
                ClientOperation.appendSubscribe(into: out, subject: subject, queue: queue, sid: sid)
            }
        } catch {
            components.registry.remove(sid)
            throw error
        }
        return sid
    }

    /// Sends UNSUB; with `max`, the server (and this client) stop after `max` messages in
    /// total on this subscription.
    func unsubscribe(sid: UInt64, after max: Int?) throws(NATSError) {
        if let max {
            guard max > 0 else { throw NATSError(.invalidArgument, "max must be positive") }
            switch components.registry.setMax(max, for: sid) {
            case nil: return
            case true?:
                try components.writeBuffer.append { out in
                    ClientOperation.appendUnsubscribe(into: out, sid: sid, max: max)
                }
                return
            case false?: break  // already delivered max: unsubscribe now
            }
        }
        let entry = components.registry.remove(sid)
        if case .queue(let queue)? = entry?.sink { queue.finish() }
        try components.writeBuffer.append { out in
            ClientOperation.appendUnsubscribe(into: out, sid: sid, max: nil)
        }
    }
}

/// A subscription with a handler; see ``NATSClient/subscribe(to:queue:handler:)``.
public struct NATSSubscriptionHandle: Sendable {
    let client: NATSClient
    /// The subscription id on the wire.
    public let sid: UInt64
    /// The subject (or pattern) subscribed to.
    public let subject: String
    /// The queue group, if the subscription is in one.
    public let queue: String?

    /// Stops the subscription now, or after `max` messages in total.
    public func unsubscribe(after max: Int? = nil) throws(NATSError) {
        try client.unsubscribe(sid: sid, after: max)
    }
}

/// The messages of one subscription, as an `AsyncSequence`.
///
/// The sequence ends after ``unsubscribe(after:)`` (once the queued messages are taken),
/// when an auto-unsubscribe limit is reached, or when the client is closed. It throws when
/// the server refuses the subscription or the connection is lost.
public struct NATSSubscription: AsyncSequence, Sendable {
    /// What the sequence yields.
    public typealias Element = NATSMessage

    let client: NATSClient
    /// The subscription id on the wire.
    public let sid: UInt64
    /// The subject (or pattern) subscribed to.
    public let subject: String
    /// The queue group, if the subscription is in one.
    public let queue: String?
    let messages: MessageQueue

    /// Stops the subscription now, or after `max` messages in total.
    public func unsubscribe(after max: Int? = nil) throws(NATSError) {
        try client.unsubscribe(sid: sid, after: max)
    }

    /// Messages dropped because the consumer fell behind its pending limits.
    public var droppedCount: UInt64 { messages.droppedCount }

    /// Messages received and not yet taken by the consumer.
    public var pendingCount: Int { messages.pendingCount }

    /// Messages that arrived so far, whether taken, waiting or dropped: a watchdog compares
    /// it over time to see whether anything arrives.
    public var receivedCount: UInt64 { messages.receivedCount }

    /// An iterator over the messages; one consumer at a time.
    public func makeAsyncIterator() -> Iterator { Iterator(queue: messages) }

    /// The subscription's messages, in arrival order.
    public struct Iterator: AsyncIteratorProtocol {
        let queue: MessageQueue
        private var batch: [NATSMessage] = []
        private var index = 0

        init(queue: MessageQueue) { self.queue = queue }

        /// The next message; `nil` when the subscription ended (unsubscribed, drained or the client closed), an error when it failed.
        public mutating func next() async throws -> NATSMessage? {
            if index < batch.count {
                defer { index += 1 }
                return batch[index]
            }
            switch await queue.nextBatch() {
            case .messages(let messages):
                batch = messages
                index = 1
                return messages.first
            case .finished:
                batch = []
                index = 0
                return nil
            case .failed(let error):
                batch = []
                index = 0
                throw error
            }
        }
    }
}
