/// What the stream said to a published message.
public struct PubAck: Decodable, Sendable, Equatable {
    /// The stream that stored the message.
    public var stream: String
    /// Its sequence in that stream.
    public var sequence: UInt64
    /// The message repeated a `Nats-Msg-Id` inside the duplicate window: not stored again.
    public var duplicate: Bool
    /// The JetStream domain, if the server has one.
    public var domain: String?

    enum CodingKeys: String, CodingKey {
        case stream, duplicate, domain
        case sequence = "seq"
    }

    /// An acknowledgement as the stream sends it.
    public init(stream: String, sequence: UInt64, duplicate: Bool = false, domain: String? = nil) {
        self.stream = stream
        self.sequence = sequence
        self.duplicate = duplicate
        self.domain = domain
    }

    /// Reads the server's usual acknowledgement, a flat object of plain strings, integers and
    /// booleans, straight from its bytes (a JSON decoder cost several microseconds per
    /// acknowledgement); `nil` for anything else (an error), which takes the decoder.
    static func parse(_ bytes: [UInt8]) -> PubAck? {
        var stream: String?
        var sequence: UInt64?
        var duplicate = false
        var domain: String?
        var index = 0
        func skipSpaces() {
            while index < bytes.count,
                bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
            { index += 1 }
        }
        func plainString() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") || bytes[end] < 0x20 { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            index = end + 1
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        skipSpaces()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        while true {
            skipSpaces()
            guard let key = plainString() else { return nil }
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpaces()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let text = plainString() else { return nil }
                if key == "stream" { stream = text } else if key == "domain" { domain = text }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                var value: UInt64 = 0
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[index] - 0x30))
                    guard !overflow1, !overflow2 else { return nil }
                    value = sum
                    index += 1
                }
                if key == "seq" { sequence = value }
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                let isTrue = bytes[index] == UInt8(ascii: "t")
                let word = isTrue ? Array("true".utf8) : Array("false".utf8)
                guard index + word.count <= bytes.count, Array(bytes[index..<(index + word.count)]) == word
                else {
                    return nil
                }
                index += word.count
                if key == "duplicate" { duplicate = isTrue }
            default:
                return nil  // an object (an error), an array, a fraction: the decoder's job
            }
            skipSpaces()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { return nil }
            break
        }
        guard let stream, let sequence else { return nil }
        return PubAck(stream: stream, sequence: sequence, duplicate: duplicate, domain: domain)
    }

    /// Reads the stream's acknowledgement (`stream`, `seq`, `duplicate`, `domain`).
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

    /// Options; all optional.
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
        return try PubAck.parse(reply.payload) ?? Self.decode(reply.payload, as: PubAck.self)
    }

    /// Publishes the UTF-8 bytes of `text` and waits for the stream's acknowledgement.
    public func publish(
        _ text: String, to subject: String, headers: NATSHeaders? = nil, options: PublishOptions = .init()
    ) async throws -> PubAck {
        try await publish(Array(text.utf8), to: subject, headers: headers, options: options)
    }
}
