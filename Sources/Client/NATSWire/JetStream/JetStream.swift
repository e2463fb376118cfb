#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// JetStream over one client: the `$JS.API` requests of streams and publishing with an
/// acknowledgement. Every call is a NATS request whose reply is either the answer or an API
/// error, which is thrown as a ``JetStreamError``.
///
/// ```swift
/// let js = nats.jetStream()
/// _ = try await js.addStream(StreamConfig(name: "ORDERS", subjects: ["orders.>"]))
/// let ack = try await js.publish("hello", to: "orders.new", options: .init(messageID: "o-1"))
/// ```
public struct JetStream: Sendable {
    /// The connection the API requests go over.
    public let client: NATSClient
    /// `$JS.API`, or `$JS.<domain>.API` for a JetStream domain.
    public let apiPrefix: String
    /// How long each API request may take.
    public let timeout: Duration

    /// A context on `client`: `domain` for a JetStream domain (`$JS.<domain>.API`), or an explicit `apiPrefix`; `timeout` for each API request.
    public init(
        client: NATSClient, domain: String? = nil, apiPrefix: String? = nil, timeout: Duration = .seconds(5)
    ) {
        self.client = client
        self.apiPrefix = apiPrefix ?? domain.map { "$JS.\($0).API" } ?? "$JS.API"
        self.timeout = timeout
    }

    /// One API request: `body` encoded as JSON (none: an empty payload), the reply decoded as
    /// `Answer` or thrown as the API's error.
    func api<Answer: Decodable>(_ path: String, _ body: (some Encodable)?, as: Answer.Type) async throws
        -> Answer
    {
        var payload: [UInt8] = []
        if let body { payload = Array(try JetStreamJSON.encoder.encode(body)) }
        let reply: NATSMessage
        do {
            reply = try await client.request(payload, to: "\(apiPrefix).\(path)", timeout: timeout)
        } catch let error as NATSError where error.kind == .noResponders {
            throw JetStreamError(
                code: 503, errorCode: 0, description: "JetStream is not enabled on this server or account")
        }
        return try Self.decode(reply.payload, as: Answer.self)
    }

    func api<Answer: Decodable>(_ path: String, as: Answer.Type) async throws -> Answer {
        try await api(path, Optional<Empty>.none, as: Answer.self)
    }

    /// The answer, or the API error it carries.
    static func decode<Answer: Decodable>(_ payload: [UInt8], as: Answer.Type) throws -> Answer {
        let data = Data(payload)
        if let failure = try? JetStreamJSON.decoder.decode(ErrorEnvelope.self, from: data),
            let error = failure.error
        {
            throw error
        }
        return try JetStreamJSON.decoder.decode(Answer.self, from: data)
    }

    struct Empty: Codable {}

    struct ErrorEnvelope: Decodable {
        var error: JetStreamError?
    }
}

extension NATSClient {
    /// JetStream over this client.
    public func jetStream(domain: String? = nil, timeout: Duration = .seconds(5)) -> JetStream {
        JetStream(client: self, domain: domain, timeout: timeout)
    }
}

/// An error of the JetStream API, with its `err_code` (``Code``) to act on.
public struct JetStreamError: Error, Sendable, Equatable, Decodable, CustomStringConvertible {
    /// The HTTP-like status (404, 400, 503, ...).
    public var code: Int
    /// JetStream's own code (`err_code`): which error exactly.
    public var errorCode: Int
    /// The server's description of the error.
    public var description: String

    /// An error as the API reports it.
    public init(code: Int, errorCode: Int, description: String) {
        self.code = code
        self.errorCode = errorCode
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case code
        case errorCode = "err_code"
        case description
    }

    /// Reads the API's `error` object (`err_code` and `description` optional).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(Int.self, forKey: .code)
        errorCode = try container.decodeIfPresent(Int.self, forKey: .errorCode) ?? 0
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
    }

    /// The `err_code`s a program usually acts on.
    public enum Code {
        /// No stream of that name.
        public static let streamNotFound = 10059
        /// A stream of that name exists with another configuration.
        public static let streamNameInUse = 10058
        /// No consumer of that name on the stream.
        public static let consumerNotFound = 10014
        /// No message at that sequence or on that subject.
        public static let messageNotFound = 10037
        /// A publish expectation failed: the last sequence (of the stream or the subject) is another.
        public static let wrongLastSequence = 10071
        /// A publish expectation failed: the last `Nats-Msg-Id` is another.
        public static let wrongLastMessageID = 10070
    }
}

/// The API's JSON coders (keys are spelled out per type: snake_case, durations in
/// nanoseconds).
enum JetStreamJSON {
    static let encoder = JSONEncoder()
    static let decoder = JSONDecoder()
}
