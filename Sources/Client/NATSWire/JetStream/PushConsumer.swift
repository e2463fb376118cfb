/// The messages a push consumer delivers, as an `AsyncSequence` of ``JetStreamMessage``.
///
/// The server sends to the consumer's deliver subject on its own; this sequence subscribes
/// there (in the consumer's deliver group, if it has one), answers the server's flow-control
/// requests when it reaches them (so the server never runs further ahead than what was
/// taken), answers a stalled-consumer heartbeat at once, and hides idle heartbeats. It ends
/// with an error when the server says the consumer was deleted, and after ``stop()``.
///
/// ```swift
/// let orders = try await js.pushConsumer("ORDERS", ConsumerConfig(durableName: "audit"))
/// for try await message in orders {
///     print(message.subject, message.metadata.streamSequence)
///     try message.ack()
/// }
/// ```
public struct PushConsumer: AsyncSequence, Sendable {
    /// What the sequence yields.
    public typealias Element = JetStreamMessage

    /// The consumer as the server created it.
    public let info: ConsumerInfo
    let subscription: NATSSubscription
    let client: NATSClient

    /// Stops receiving; the sequence ends once the messages already here are taken. A
    /// durable consumer stays on the server (delete it with ``JetStream/deleteConsumer(_:_:)``);
    /// an ephemeral one goes after its inactive threshold.
    public func stop() throws { try subscription.unsubscribe() }

    /// An iterator over the deliveries; one consumer at a time.
    public func makeAsyncIterator() -> Iterator {
        Iterator(base: subscription.makeAsyncIterator(), client: client, consumer: info.name)
    }

    /// The deliveries of the push consumer, heartbeats and flow control handled.
    public struct Iterator: AsyncIteratorProtocol {
        var base: NATSSubscription.Iterator
        let client: NATSClient
        let consumer: String

        /// The next delivery; waits for one.
        public mutating func next() async throws -> JetStreamMessage? {
            while let message = try await base.next() {
                if let status = message.status {
                    try handle(status: status, of: message)
                    continue
                }
                guard let replyTo = message.replyTo, let metadata = JetStreamMetadata(replySubject: replyTo)
                else {
                    continue  // not a JetStream delivery: nothing to acknowledge it with
                }
                return JetStreamMessage(message: message, metadata: metadata, client: client)
            }
            return nil
        }

        /// 100 is a flow-control request (it has a reply subject) or an idle heartbeat (which
        /// names a stalled flow-control subject when the server waits for one); 409 ends the
        /// consumer.
        private func handle(status: Int, of message: NATSMessage) throws {
            switch status {
            case 100:
                if let replyTo = message.replyTo {
                    try client.publish([], to: replyTo)
                } else if let stalled = message.headers?[PushConsumer.stalledHeader] {
                    try client.publish([], to: stalled)
                }
            case 409:
                let reason = message.headers?.statusDescription ?? "consumer deleted"
                throw JetStreamError(
                    code: 409, errorCode: JetStreamError.Code.consumerNotFound,
                    description: "push consumer \(consumer): \(reason)")
            default:
                break
            }
        }
    }

    static let stalledHeader = "Nats-Consumer-Stalled"
}

extension JetStream {
    /// Creates a push consumer on `stream` (or binds to the existing one of that name and
    /// configuration) and subscribes to its deliveries. Without a deliver subject in
    /// `config`, a new inbox is used.
    public func pushConsumer(_ stream: String, _ config: ConsumerConfig) async throws -> PushConsumer {
        var config = config
        let deliverSubject = config.deliverSubject ?? client.newInbox()
        config.deliverSubject = deliverSubject
        if config.flowControl == true, config.idleHeartbeatNanoseconds == nil {
            throw NATSError(.invalidArgument, "flow control needs an idle heartbeat")
        }
        // Subscribed before the consumer exists, so no delivery finds nobody listening.
        let subscription = try client.subscribe(to: deliverSubject, queue: config.deliverGroup)
        do {
            let info = try await addConsumer(stream, config)
            return PushConsumer(info: info, subscription: subscription, client: client)
        } catch {
            try? subscription.unsubscribe()
            throw error
        }
    }
}
