/// A pull consumer's messages as one continuous `AsyncSequence`: the consumer (durable, or
/// a named ephemeral one) stays on the server and this sequence keeps pull requests open so
/// that messages flow as they are stored, up to `batch` ahead of the reader. It checks that
/// the consumer exists whenever it (re)opens its pull.
///
/// Each pull asks the server for idle heartbeats; when neither a message nor a heartbeat nor
/// a pull's end arrives for two heartbeat periods (the connection was lost, or the server
/// forgot the pull across a restart), the sequence pulls again on a fresh inbox. A consumer
/// that does not exist, or is deleted, ends it with a ``JetStreamError``. Acknowledge each
/// message as the consumer's ack policy wants.
///
/// ```swift
/// for try await message in js.messages("ORDERS", consumer: "billing") {
///     try await handle(message.payload)
///     try message.ack()
/// }
/// ```
public struct PullMessages: AsyncSequence, Sendable {
    /// What the sequence yields.
    public typealias Element = JetStreamMessage

    let js: JetStream
    let stream: String
    let consumer: String
    let batch: Int
    let expires: Duration
    let heartbeat: Duration

    /// An iterator over the messages; one consumer at a time.
    public func makeAsyncIterator() -> Iterator { Iterator(source: self) }

    /// The messages of the pull consumer, as they arrive.
    public struct Iterator: AsyncIteratorProtocol {
        let source: PullMessages
        var inbox = ""
        var subscription: NATSSubscription?
        var messages: NATSSubscription.Iterator?
        var watchdog: Task<Void, Never>?
        /// Messages the open pull requests may still bring.
        var outstanding = 0
        /// How many times the pull started over on a fresh inbox.
        public private(set) var restarts = 0

        init(source: PullMessages) { self.source = source }

        /// The next message; waits for one, pulling more as the buffer empties.
        public mutating func next() async throws -> JetStreamMessage? {
            while !Task.isCancelled {
                if subscription == nil { try await open() }
                let message: NATSMessage?
                do {
                    message = try await messages?.next()
                } catch {
                    // The subscription failed (the client closed, a permission): end with it.
                    close()
                    throw error
                }
                guard let message else {
                    // The watchdog saw nothing arrive: pull again on a fresh inbox.
                    close()
                    restarts += 1
                    continue
                }
                if let status = message.status {
                    try handle(status: status, message)
                    continue
                }
                guard let replyTo = message.replyTo, let metadata = JetStreamMetadata(replySubject: replyTo)
                else {
                    continue
                }
                outstanding -= 1
                if outstanding <= source.batch / 2 { try pull() }
                return JetStreamMessage(message: message, metadata: metadata, client: source.js.client)
            }
            close()
            return nil
        }

        /// 100: a heartbeat. 404/408/409: a pull ended (nothing now, expired, or the server's
        /// limits); ask again. 503: nobody took the pull: the consumer does not exist. A 409
        /// "Consumer Deleted" ends the sequence.
        private mutating func handle(status: Int, _ message: NATSMessage) throws {
            let reason = message.headers?.statusDescription ?? ""
            switch status {
            case 100:
                return
            case 503:
                close()
                throw JetStreamError(
                    code: 404, errorCode: JetStreamError.Code.consumerNotFound,
                    description: "consumer \(source.consumer) of \(source.stream) not found")
            case 409 where reason.lowercased().contains("deleted"):
                close()
                throw JetStreamError(
                    code: 409, errorCode: JetStreamError.Code.consumerNotFound,
                    description: "consumer \(source.consumer) of \(source.stream): \(reason)")
            default:
                outstanding = 0
                try pull()
            }
        }

        private mutating func open() async throws {
            // A pull for a consumer that does not exist gets no answer at all: ask first.
            do {
                _ = try await source.js.consumerInfo(source.stream, source.consumer)
            } catch let error as JetStreamError
                where error.errorCode == JetStreamError.Code.consumerNotFound
                || error.errorCode == JetStreamError.Code.streamNotFound
            {
                throw error
            } catch {
                // Not reachable now: pull anyway; the watchdog opens again if nothing comes.
            }
            inbox = source.js.client.newInbox()
            let subscription = try source.js.client.subscribe(to: inbox)
            self.subscription = subscription
            messages = subscription.makeAsyncIterator()
            outstanding = 0
            try pull()
            // Something arrives at least every heartbeat while a pull waits: two periods
            // without anything mean the pull is gone.
            let period = source.heartbeat * 2
            watchdog = Task {
                var seen = subscription.receivedCount
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    let now = subscription.receivedCount
                    if now == seen, !Task.isCancelled {
                        try? subscription.unsubscribe()
                        return
                    }
                    seen = now
                }
            }
        }

        /// One more pull request into the inbox.
        private mutating func pull() throws {
            try source.js.requestPull(
                source.stream, source.consumer, batch: source.batch, expires: source.expires,
                heartbeat: source.heartbeat, into: inbox)
            outstanding += source.batch
        }

        private mutating func close() {
            watchdog?.cancel()
            watchdog = nil
            try? subscription?.unsubscribe()
            subscription = nil
            messages = nil
        }
    }
}

extension JetStream {
    /// The messages of the pull consumer `consumer` on `stream`, continuously; see
    /// ``PullMessages``. `batch` is how many may be on their way at once, `expires` how long
    /// each pull request lives, `heartbeat` how often the server shows a waiting pull is
    /// alive (at most half of `expires`).
    public func messages(
        _ stream: String, consumer: String, batch: Int = 256, expires: Duration = .seconds(30),
        heartbeat: Duration = .seconds(5)
    ) throws -> PullMessages {
        guard batch > 0 else { throw NATSError(.invalidArgument, "batch must be positive") }
        guard heartbeat > .zero, heartbeat * 2 <= expires else {
            throw NATSError(.invalidArgument, "the heartbeat must be positive and at most half of expires")
        }
        return PullMessages(
            js: self, stream: try Self.streamName(stream), consumer: try Self.streamName(consumer),
            batch: batch,
            expires: expires, heartbeat: heartbeat)
    }
}
