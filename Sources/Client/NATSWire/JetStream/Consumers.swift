#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A consumer's configuration: where in the stream it starts, how messages are acknowledged,
/// which subjects it takes. Fields left `nil` get the server's defaults.
public struct ConsumerConfig: Codable, Sendable, Equatable {
    /// Where in the stream delivery starts.
    public enum DeliverPolicy: String, Codable, Sendable {
        /// From the first message kept.
        case all
        /// From the last message.
        case last
        /// Only messages stored after the consumer was made.
        case new
        /// From ``ConsumerConfig/startSequence``.
        case byStartSequence = "by_start_sequence"
        /// From a point in time.
        case byStartTime = "by_start_time"
        /// The last message of every subject, then what comes.
        case lastPerSubject = "last_per_subject"
    }
    /// How deliveries are acknowledged.
    public enum AckPolicy: String, Codable, Sendable {
        /// Not at all: delivered is done.
        case none
        /// An acknowledgement covers every earlier delivery too.
        case all
        /// Each message on its own (the default here).
        case explicit
    }
    /// The pace of delivery.
    public enum ReplayPolicy: String, Codable, Sendable {
        /// As fast as the consumer takes them.
        case instant
        /// At the pace the messages were stored.
        case original
    }

    /// A durable consumer's name: it outlives its clients.
    public var durableName: String?
    /// An ephemeral consumer's name (the server makes one up when `nil`).
    public var name: String?
    /// A description for people.
    public var description: String?
    /// Where delivery starts.
    public var deliverPolicy: DeliverPolicy?
    /// The first sequence, with ``DeliverPolicy/byStartSequence``.
    public var startSequence: UInt64?
    /// How messages are acknowledged (explicit by default here).
    public var ackPolicy: AckPolicy?
    /// Nanoseconds until an unacknowledged message is delivered again.
    public var ackWaitNanoseconds: Int64?
    /// How many times a message is delivered before it is given up; `-1` for no limit.
    public var maxDeliver: Int?
    /// Only messages on this subject (wildcards allowed).
    public var filterSubject: String?
    /// As fast as possible (default), or at the pace they were stored.
    public var replayPolicy: ReplayPolicy?
    /// The most messages delivered and not yet acknowledged; delivery waits beyond.
    public var maxAckPending: Int?
    /// Push consumers: where the server sends the messages.
    public var deliverSubject: String?
    /// Redelivery waits, in nanoseconds, one per delivery attempt.
    public var backoffNanoseconds: [Int64]?
    /// An ephemeral consumer is removed after this long without a client (nanoseconds).
    public var inactiveThresholdNanoseconds: Int64?
    /// Deliver headers only (with `Nats-Msg-Size`), not the payloads.
    public var headersOnly: Bool?
    /// Push consumers: the server pauses until the client answers its flow-control messages
    /// (``PushConsumer`` answers them as it reaches them). Needs an idle heartbeat.
    public var flowControl: Bool?
    /// Push consumers: a status message after this long without messages (nanoseconds).
    public var idleHeartbeatNanoseconds: Int64?
    /// Push consumers: the queue group whose members share the deliveries.
    public var deliverGroup: String?

    /// A configuration: durable when `durableName` is given, else ephemeral; `deliverSubject` makes it a push consumer.
    public init(
        durableName: String? = nil, name: String? = nil, deliverPolicy: DeliverPolicy? = nil,
        startSequence: UInt64? = nil, ackPolicy: AckPolicy? = .explicit, ackWait: Duration? = nil,
        maxDeliver: Int? = nil, filterSubject: String? = nil, maxAckPending: Int? = nil,
        deliverSubject: String? = nil, backoff: [Duration]? = nil, inactiveThreshold: Duration? = nil,
        flowControl: Bool? = nil, idleHeartbeat: Duration? = nil, deliverGroup: String? = nil
    ) {
        self.durableName = durableName
        self.name = name
        self.deliverPolicy = deliverPolicy
        self.startSequence = startSequence
        self.ackPolicy = ackPolicy
        self.ackWaitNanoseconds = ackWait.map(StreamConfig.nanoseconds)
        self.maxDeliver = maxDeliver
        self.filterSubject = filterSubject
        self.maxAckPending = maxAckPending
        self.deliverSubject = deliverSubject
        self.backoffNanoseconds = backoff?.map(StreamConfig.nanoseconds)
        self.inactiveThresholdNanoseconds = inactiveThreshold.map(StreamConfig.nanoseconds)
        self.flowControl = flowControl
        self.idleHeartbeatNanoseconds = idleHeartbeat.map(StreamConfig.nanoseconds)
        self.deliverGroup = deliverGroup
    }

    enum CodingKeys: String, CodingKey {
        case name, description
        case durableName = "durable_name"
        case deliverPolicy = "deliver_policy"
        case startSequence = "opt_start_seq"
        case ackPolicy = "ack_policy"
        case ackWaitNanoseconds = "ack_wait"
        case maxDeliver = "max_deliver"
        case filterSubject = "filter_subject"
        case replayPolicy = "replay_policy"
        case maxAckPending = "max_ack_pending"
        case deliverSubject = "deliver_subject"
        case backoffNanoseconds = "backoff"
        case inactiveThresholdNanoseconds = "inactive_threshold"
        case headersOnly = "headers_only"
        case flowControl = "flow_control"
        case idleHeartbeatNanoseconds = "idle_heartbeat"
        case deliverGroup = "deliver_group"
    }
}

/// A consumer and where it stands.
public struct ConsumerInfo: Decodable, Sendable, Equatable {
    /// The stream it reads.
    public var stream: String
    /// The consumer's name.
    public var name: String
    /// Its configuration, with the server's defaults filled in.
    public var config: ConsumerConfig
    /// Delivered, not yet acknowledged.
    public var ackPending: Int
    /// Delivered more than once, waiting for redelivery.
    public var redelivered: Int
    /// Messages of the stream this consumer has not delivered yet.
    public var pending: UInt64

    enum CodingKeys: String, CodingKey {
        case name, config
        case stream = "stream_name"
        case ackPending = "num_ack_pending"
        case redelivered = "num_redelivered"
        case pending = "num_pending"
    }
}

/// Where a delivered message stands, from its reply subject.
public struct JetStreamMetadata: Sendable, Equatable {
    /// The stream the message is from.
    public var stream: String
    /// The consumer that delivered it.
    public var consumer: String
    /// How many times it was delivered, this time included.
    public var delivered: Int
    /// Its sequence in the stream.
    public var streamSequence: UInt64
    /// Its delivery sequence in the consumer (redeliveries count again).
    public var consumerSequence: UInt64
    /// When it was stored, in nanoseconds since 1970.
    public var timestamp: Int64
    /// Messages left for the consumer after this one.
    public var pending: UInt64

    /// `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`, or the newer
    /// form with domain and account hash first (12 tokens or more). Read from the bytes:
    /// this runs for every delivered message.
    public init?(replySubject: String) {
        var subject = replySubject
        guard let parsed = subject.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    private init(
        stream: String, consumer: String, delivered: Int, streamSequence: UInt64, consumerSequence: UInt64,
        timestamp: Int64, pending: UInt64
    ) {
        self.stream = stream
        self.consumer = consumer
        self.delivered = delivered
        self.streamSequence = streamSequence
        self.consumerSequence = consumerSequence
        self.timestamp = timestamp
        self.pending = pending
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JetStreamMetadata? {
        // Where each token ends (the index of its dot, or of the end); at most 16 tokens are
        // looked at. On the stack: this runs for every message a consumer receives, and two
        // arrays here were 5 % of a fetching client's CPU.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 17) { ends -> JetStreamMetadata? in
            var count = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: ".") {
                guard count < 17 else { return nil }
                ends[count] = index
                count += 1
            }
            guard count >= 9, count <= 16, ends[0] == 3, ends[1] == 7,
                bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "J"), bytes[2] == UInt8(ascii: "S"),
                bytes[4] == UInt8(ascii: "A"), bytes[5] == UInt8(ascii: "C"), bytes[6] == UInt8(ascii: "K")
            else { return nil }
            let first = count >= 12 ? 4 : 2  // past domain and account hash
            func range(_ token: Int) -> Range<Int> { (ends[first + token - 1] + 1)..<ends[first + token] }
            func number(_ token: Int) -> UInt64? {
                let range = range(token)
                guard !range.isEmpty, range.count <= 19 else { return nil }
                var value: UInt64 = 0
                for index in range {
                    let digit = bytes[index] &- 0x30
                    guard digit <= 9 else { return nil }
                    value = value * 10 + UInt64(digit)
                }
                return value
            }
            func text(_ token: Int) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: bytes[range(token)]), as: UTF8.self)
            }
            guard let delivered = number(2), let streamSequence = number(3), let consumerSequence = number(4),
                let timestamp = number(5), let pending = number(6), timestamp <= UInt64(Int64.max),
                delivered <= UInt64(Int.max)
            else { return nil }
            return JetStreamMetadata(
                stream: text(0), consumer: text(1), delivered: Int(delivered), streamSequence: streamSequence,
                consumerSequence: consumerSequence, timestamp: Int64(timestamp), pending: pending)
        }
    }
}

/// A message a consumer delivered, with its metadata and its acknowledgements.
public struct JetStreamMessage: Sendable {
    /// The message as delivered.
    public let message: NATSMessage
    /// Its JetStream metadata, from the reply subject.
    public let metadata: JetStreamMetadata
    let client: NATSClient

    /// The subject it was published to.
    public var subject: String { message.subject }
    /// Its payload.
    public var payload: [UInt8] { message.payload }
    /// The payload as UTF-8 text.
    public var string: String { message.string }
    /// Its headers.
    public var headers: NATSHeaders? { message.headers }

    /// Done with it.
    public func ack() throws { try reply("+ACK") }

    /// Done with it, and waits for the server to confirm, so the message will not come again.
    public func doubleAck(timeout: Duration = .seconds(5)) async throws {
        guard let replyTo = message.replyTo else {
            throw NATSError(.invalidArgument, "the message has no ack subject")
        }
        _ = try await client.request(Array("+ACK".utf8), to: replyTo, timeout: timeout)
    }

    /// Not now: deliver it again, after `delay` when given.
    public func nak(delay: Duration? = nil) throws {
        try reply(delay.map { #"-NAK {"delay":\#(StreamConfig.nanoseconds($0))}"# } ?? "-NAK")
    }

    /// Still working on it: restarts the ack wait.
    public func inProgress() throws { try reply("+WPI") }

    /// Never deliver it again.
    public func term() throws { try reply("+TERM") }

    private func reply(_ text: String) throws {
        guard let replyTo = message.replyTo else {
            throw NATSError(.invalidArgument, "the message has no ack subject")
        }
        try client.publish(text, to: replyTo)
    }
}

extension JetStream {
    /// Creates a consumer on `stream` (or returns the existing one of the same name and
    /// configuration).
    public func addConsumer(_ stream: String, _ config: ConsumerConfig) async throws -> ConsumerInfo {
        let stream = try Self.streamName(stream)
        let request = CreateConsumer(streamName: stream, config: config)
        if let name = config.durableName ?? config.name {
            return try await api(
                "CONSUMER.CREATE.\(stream).\(try Self.streamName(name))", request, as: ConsumerInfo.self)
        }
        return try await api("CONSUMER.CREATE.\(stream)", request, as: ConsumerInfo.self)
    }

    /// Changes a named consumer's configuration where the server allows it (description, ack
    /// wait, max deliver, backoff, max ack pending, ...); changing what it delivers (deliver
    /// policy, filter, ack policy) is refused with the server's error.
    public func updateConsumer(_ stream: String, _ config: ConsumerConfig) async throws -> ConsumerInfo {
        guard config.durableName ?? config.name != nil else {
            throw NATSError(.invalidArgument, "only a named consumer can be updated")
        }
        return try await addConsumer(stream, config)
    }

    /// A consumer's configuration and state; ``JetStreamError/Code/consumerNotFound`` if there is none.
    public func consumerInfo(_ stream: String, _ consumer: String) async throws -> ConsumerInfo {
        try await api(
            "CONSUMER.INFO.\(try Self.streamName(stream)).\(try Self.streamName(consumer))",
            as: ConsumerInfo.self)
    }

    /// Deletes a consumer.
    public func deleteConsumer(_ stream: String, _ consumer: String) async throws {
        _ = try await api(
            "CONSUMER.DELETE.\(try Self.streamName(stream)).\(try Self.streamName(consumer))",
            as: Success.self)
    }

    /// Every consumer of `stream` with its configuration and state, page by page.
    public func consumers(_ stream: String) async throws -> [ConsumerInfo] {
        try await pages("CONSUMER.LIST.\(try Self.streamName(stream))")
    }

    /// The names of every consumer of `stream`, page by page.
    public func consumerNames(_ stream: String) async throws -> [String] {
        try await names("CONSUMER.NAMES.\(try Self.streamName(stream))")
    }

    /// Pulls up to `batch` messages from a pull consumer: returns when that many arrived, or
    /// when the server says there are no more for now (after `expires`). An empty array is
    /// not an error.
    public func fetch(_ stream: String, _ consumer: String, batch: Int, expires: Duration = .seconds(5))
        async throws -> [JetStreamMessage]
    {
        guard batch > 0 else { return [] }
        let inbox = client.newInbox()
        let subscription = try client.subscribe(to: inbox)
        defer { try? subscription.unsubscribe() }
        try requestPull(
            try Self.streamName(stream), try Self.streamName(consumer), batch: batch, expires: expires,
            into: inbox)
        // The server ends the pull itself at `expires`; the local deadline only guards against
        // a server that went away.
        let deadline = ContinuousClock.now.advanced(by: expires + timeout)
        var messages: [JetStreamMessage] = []
        let watchdog = Task {
            try? await Task.sleep(until: deadline)
            try? subscription.unsubscribe()
        }
        defer { watchdog.cancel() }
        for try await message in subscription {
            if let status = message.status {
                // 100: idle heartbeat. 404/408/409: no more now, the pull expired or ended.
                // 503: nobody took the pull request: the consumer does not exist.
                if status == 100 { continue }
                if status == 503 {
                    throw JetStreamError(
                        code: 404, errorCode: JetStreamError.Code.consumerNotFound,
                        description: "consumer \(consumer) of \(stream) not found")
                }
                break
            }
            guard let replyTo = message.replyTo, let metadata = JetStreamMetadata(replySubject: replyTo)
            else {
                continue
            }
            messages.append(JetStreamMessage(message: message, metadata: metadata, client: client))
            if messages.count == batch { break }
        }
        return messages
    }

    /// Asks `consumer` of `stream` (names already checked) for up to `batch` messages, sent
    /// to `inbox` until `expires`, with idle heartbeats when `heartbeat` is given.
    func requestPull(
        _ stream: String, _ consumer: String, batch: Int, expires: Duration, heartbeat: Duration? = nil,
        into inbox: String
    ) throws {
        let request = PullRequest(
            batch: batch, expires: StreamConfig.nanoseconds(expires),
            idleHeartbeat: heartbeat.map(StreamConfig.nanoseconds))
        try client.publish(
            Array(try JetStreamJSON.encoder.encode(request)),
            to: "\(apiPrefix).CONSUMER.MSG.NEXT.\(stream).\(consumer)",
            replyTo: inbox)
    }

    struct CreateConsumer: Encodable {
        var streamName: String
        var config: ConsumerConfig
        enum CodingKeys: String, CodingKey {
            case config
            case streamName = "stream_name"
        }
    }

    struct PullRequest: Encodable {
        var batch: Int
        var expires: Int64
        /// Nanoseconds between the server's status-100 messages while the pull waits.
        var idleHeartbeat: Int64? = nil

        enum CodingKeys: String, CodingKey {
            case batch, expires
            case idleHeartbeat = "idle_heartbeat"
        }
    }
}
