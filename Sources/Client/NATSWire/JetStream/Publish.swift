/// What the stream said to a published message.
public struct PubAck: Decodable, Sendable, Equatable {
    public var stream: String
    public var sequence: UInt64
    /// The message repeated a `Nats-Msg-Id` inside the duplicate window: not stored again.
    public var duplicate: Bool
    public var domain: String?

    enum CodingKeys: String, CodingKey {
        case stream, duplicate, domain
        case sequence = "seq"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stream = try container.decode(String.self, forKey: .stream)
        sequence = try container.decode(UInt64.self, forKey: .sequence)
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
        domain = try container.decodeIfPresent(String.self, forKey: .domain)
    }
}

/// De-duplication and the expectations a publish makes of the stream; a failed expectation
/// is a ``JetStreamError`` (e.g. ``JetStreamError/Code/wrongLastSequence``) and nothing is
/// stored.
public struct PublishOptions: Sendable, Equatable {
    /// `Nats-Msg-Id`: the same id inside the stream's duplicate window is stored once.
    public var messageID: String?
    /// `Nats-Expected-Stream`.
    public var expectedStream: String?
    /// `Nats-Expected-Last-Sequence`: the stream's last sequence must be this.
    public var expectedLastSequence: UInt64?
    /// `Nats-Expected-Last-Subject-Sequence`: the last sequence on this subject must be this.
    public var expectedLastSubjectSequence: UInt64?
    /// `Nats-Expected-Last-Msg-Id`.
    public var expectedLastMessageID: String?

    public init(
        messageID: String? = nil, expectedStream: String? = nil, expectedLastSequence: UInt64? = nil,
        expectedLastSubjectSequence: UInt64? = nil, expectedLastMessageID: String? = nil
    ) {
        self.messageID = messageID
        self.expectedStream = expectedStream
        self.expectedLastSequence = expectedLastSequence
        self.expectedLastSubjectSequence = expectedLastSubjectSequence
        self.expectedLastMessageID = expectedLastMessageID
    }

    /// The headers that carry these options, added to `headers`.
    func apply(to headers: inout NATSHeaders) {
        if let messageID { headers.set(messageID, for: "Nats-Msg-Id") }
        if let expectedStream { headers.set(expectedStream, for: "Nats-Expected-Stream") }
        if let expectedLastSequence {
            headers.set(String(expectedLastSequence), for: "Nats-Expected-Last-Sequence")
        }
        if let expectedLastSubjectSequence {
            headers.set(String(expectedLastSubjectSequence), for: "Nats-Expected-Last-Subject-Sequence")
        }
        if let expectedLastMessageID { headers.set(expectedLastMessageID, for: "Nats-Expected-Last-Msg-Id") }
    }
}

extension JetStream {
    /// Publishes and waits for the stream's acknowledgement. No stream capturing `subject`
    /// is a ``JetStreamError`` with code 503.
    public func publish(
        _ payload: [UInt8], to subject: String, headers: NATSHeaders? = nil, options: PublishOptions = .init()
    ) async throws -> PubAck {
        var all = headers ?? NATSHeaders()
        options.apply(to: &all)
        let reply: NATSMessage
        do {
            reply = try await client.request(
                payload, to: subject, headers: all.isEmpty ? nil : all, timeout: timeout)
        } catch let error as NATSError where error.kind == .noResponders {
            throw JetStreamError(code: 503, errorCode: 0, description: "no stream captures \(subject)")
        }
        return try Self.decode(reply.payload, as: PubAck.self)
    }

    public func publish(
        _ text: String, to subject: String, headers: NATSHeaders? = nil, options: PublishOptions = .init()
    ) async throws -> PubAck {
        try await publish(Array(text.utf8), to: subject, headers: headers, options: options)
    }
}
