/// Reads a stream in order, exactly once, without acknowledgements: an ephemeral pull
/// consumer that the reader re-creates from the next expected stream sequence whenever
/// something breaks the sequence (a gap in the consumer sequence, the consumer gone, the
/// connection lost and back). It waits for new messages at the end of the stream and ends
/// only when the task is cancelled.
///
/// ```swift
/// for try await message in js.orderedConsumer("ORDERS") { print(message.metadata.streamSequence) }
/// ```
public struct OrderedConsumer: AsyncSequence, Sendable {
    /// What the sequence yields.
    public typealias Element = JetStreamMessage

    let js: JetStream
    let stream: String
    let filter: String?
    let startSequence: UInt64
    let deliverLastPerSubject: Bool
    let batch: Int
    let wait: Duration
    /// Called when the reader has delivered what the stream held when its consumer was made.
    var onIdle: (@Sendable () -> Void)? = nil

    /// An iterator over the messages in stream order.
    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self, nextStreamSequence: Swift.max(1, startSequence))
    }

    /// Pulls continuously into one inbox: a new pull request tops up the previous one before
    /// it runs dry, so messages flow as they are stored; every pull ends at `wait` with the
    /// server's 408 and a watchdog that sees neither messages nor that end re-creates the
    /// consumer (the connection was lost).
    public struct Iterator: AsyncIteratorProtocol {
        let sequence: OrderedConsumer
        /// The stream sequence the next message must have at least.
        var nextStreamSequence: UInt64
        var consumer: String?
        var inbox = ""
        var subscription: NATSSubscription?
        var messages: NATSSubscription.AsyncIterator?
        var watchdog: Task<Void, Never>?
        /// Messages the open pull requests may still bring.
        var outstanding = 0
        /// Messages still to come of those the stream held when the consumer was made
        /// (``OrderedConsumer/onIdle`` when they are through).
        var initialPending: UInt64 = 0
        /// The consumer sequence the next message must have; a different one is a gap.
        var nextConsumerSequence: UInt64 = 1
        /// How many times the consumer was re-created (for tests and diagnostics).
        public private(set) var resets = 0
        /// Delivering the latest message of each subject (a watch's start), until the initial
        /// ones are through; re-creating the consumer meanwhile starts that again.
        var lastPerSubjectPhase = false
        var newestSeen: UInt64 = 0
        var initialDone = false
        var idleAfterReturn = false

        init(sequence: OrderedConsumer, nextStreamSequence: UInt64) {
            self.sequence = sequence
            self.nextStreamSequence = nextStreamSequence
        }

        /// The next message of the stream, in order; waits for one.
        public mutating func next() async throws -> JetStreamMessage? {
            if idleAfterReturn {
                // The message that completed the initial ones was returned first.
                idleAfterReturn = false
                sequence.onIdle?()
            }
            while !Task.isCancelled {
                do {
                    if consumer == nil { try await create() }
                    guard let message = try await messages?.next() else {
                        await reset()  // the watchdog ended the subscription
                        continue
                    }
                    if let status = message.status {
                        switch status {
                        case 100: continue  // heartbeat
                        case 503:
                            await reset()  // the consumer is gone
                            continue
                        default:
                            // 404/408/409: a pull request ended; ask again.
                            outstanding = 0
                            try pull()
                            continue
                        }
                    }
                    guard let replyTo = message.replyTo,
                        let metadata = JetStreamMetadata(replySubject: replyTo)
                    else { continue }
                    outstanding -= 1
                    if outstanding <= sequence.batch / 2 { try pull() }
                    guard metadata.consumerSequence == nextConsumerSequence else {
                        await reset()  // a gap: start again from what is expected
                        continue
                    }
                    nextConsumerSequence += 1
                    if lastPerSubjectPhase {
                        // The latest of each subject come in subject order, not stream order.
                        newestSeen = Swift.max(newestSeen, metadata.streamSequence)
                    } else {
                        guard metadata.streamSequence >= nextStreamSequence else { continue }  // seen already
                        nextStreamSequence = metadata.streamSequence + 1
                    }
                    if initialPending > 0 {
                        initialPending -= 1
                        if initialPending == 0 { finishInitial(announceNow: false) }
                    }
                    return JetStreamMessage(message: message, metadata: metadata, client: sequence.js.client)
                } catch is CancellationError {
                    break
                } catch {
                    // Not reachable now (disconnected, JetStream busy): try again shortly.
                    await reset()
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            await stop()
            return nil
        }

        private mutating func create() async throws {
            let lastPerSubject = sequence.deliverLastPerSubject && !initialDone
            lastPerSubjectPhase = lastPerSubject
            let fromStart = nextStreamSequence <= 1
            let config = ConsumerConfig(
                deliverPolicy: lastPerSubject ? .lastPerSubject : (fromStart ? .all : .byStartSequence),
                startSequence: lastPerSubject || fromStart ? nil : nextStreamSequence,
                ackPolicy: ConsumerConfig.AckPolicy.none, maxDeliver: 1, filterSubject: sequence.filter,
                inactiveThreshold: .seconds(300))
            let info = try await sequence.js.addConsumer(sequence.stream, config)
            consumer = info.name
            nextConsumerSequence = 1
            inbox = sequence.js.client.newInbox()
            let subscription = try sequence.js.client.subscribe(to: inbox)
            self.subscription = subscription
            messages = subscription.makeAsyncIterator()
            outstanding = 0
            try pull()
            initialPending = info.pending
            if info.pending == 0 { finishInitial(announceNow: true) }
        }

        /// What the stream held when the consumer was made is through: announced now, or
        /// after the message being returned (so that it comes first).
        private mutating func finishInitial(announceNow: Bool) {
            if lastPerSubjectPhase {
                lastPerSubjectPhase = false
                nextStreamSequence = Swift.max(nextStreamSequence, newestSeen + 1)
            }
            initialDone = true
            if announceNow { sequence.onIdle?() } else { idleAfterReturn = true }
        }

        /// One more pull request into the inbox, and a fresh watchdog for it.
        private mutating func pull() throws {
            guard let consumer else { return }
            try sequence.js.requestPull(
                sequence.stream, consumer, batch: sequence.batch, expires: sequence.wait, into: inbox)
            outstanding += sequence.batch
            watchdog?.cancel()
            // A pull ends at `wait` with a 408; twice that and a second more means it never will.
            let limit = sequence.wait * 2 + .seconds(1)
            watchdog = Task { [subscription] in
                try? await Task.sleep(for: limit)
                if !Task.isCancelled { try? subscription?.unsubscribe() }
            }
        }

        private mutating func stop() async {
            watchdog?.cancel()
            try? subscription?.unsubscribe()
            if let consumer { try? await sequence.js.deleteConsumer(sequence.stream, consumer) }
        }

        private mutating func reset() async {
            await stop()
            consumer = nil
            subscription = nil
            messages = nil
            resets += 1
        }
    }
}

extension JetStream {
    /// The messages of `stream` (those on `filter`, when given) from `startSequence` on, in
    /// order and each once; see ``OrderedConsumer``.
    public func orderedConsumer(
        _ stream: String, filter: String? = nil, startSequence: UInt64 = 1, batch: Int = 256,
        wait: Duration = .seconds(5)
    ) -> OrderedConsumer {
        OrderedConsumer(
            js: self, stream: stream, filter: filter, startSequence: startSequence,
            deliverLastPerSubject: false,
            batch: batch, wait: wait)
    }
}
