/// A message received on a subscription, or a reply to a request.
public struct NATSMessage: Sendable, Equatable {
    /// The subject it was published to.
    public var subject: String
    /// Where the publisher wants the answer, if anywhere.
    public var replyTo: String?
    /// Headers, when the publisher sent any (`HMSG`).
    public var headers: NATSHeaders?
    /// The payload bytes.
    public var payload: [UInt8]

    /// A message (for tests and for handing messages around; received ones come from the client).
    public init(subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: [UInt8]) {
        self.subject = subject
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }

    /// The inline status of the header block (`503`, `408`, ...), if any.
    public var status: Int? { headers?.status }

    /// The payload decoded as UTF-8 (invalid sequences replaced).
    public var string: String { String(decoding: payload, as: UTF8.self) }
}
