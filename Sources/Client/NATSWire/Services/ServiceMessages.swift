/// A request as an endpoint handler sees it.
public struct ServiceRequest: Sendable {
    /// The message as received.
    public let message: NATSMessage
    /// The endpoint's name.
    public let endpoint: String

    /// The subject the request was sent to.
    public var subject: String { message.subject }
    /// The request's body.
    public var payload: [UInt8] { message.payload }
    /// The request's headers.
    public var headers: NATSHeaders? { message.headers }
}

/// What an endpoint sends back.
public struct ServiceReply: Sendable, Equatable {
    /// The body to send.
    public var payload: [UInt8]
    /// Headers to send with it.
    public var headers: NATSHeaders?
    /// `false` for a request that must not be answered (an event).
    public var isSent: Bool

    /// A reply with these bytes.
    public init(_ payload: [UInt8], headers: NATSHeaders? = nil) {
        self.payload = payload
        self.headers = headers
        self.isSent = true
    }

    /// A reply with the UTF-8 bytes of `text`.
    public init(_ text: String, headers: NATSHeaders? = nil) {
        self.init(Array(text.utf8), headers: headers)
    }

    /// Sends nothing back.
    public static let none = ServiceReply(noReply: ())

    private init(noReply: Void) {
        payload = []
        headers = nil
        isSent = false
    }
}

/// An error an endpoint reports to its caller: the reply carries the headers
/// `Nats-Service-Error` and `Nats-Service-Error-Code` and the body
/// `{"code": ..., "message": ...}` (ADR-32). Codes are HTTP-like (400, 401, 404, 409, 500).
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An HTTP-like code (400, 404, 409, 500, 503, ...).
    public var code: Int
    /// What went wrong, for the caller.
    public var message: String
    /// Replaces the standard JSON body (e.g. for a caller that expects its own format).
    public var replyBody: [UInt8]?
    /// Whether the reply carries the `Nats-Service-Error` headers.
    public var sendsErrorHeaders: Bool

    /// An error reply; `replyBody` replaces the default empty body, `sendsErrorHeaders` false leaves out the services API's error headers.
    public init(code: Int, message: String, replyBody: [UInt8]? = nil, sendsErrorHeaders: Bool = true) {
        self.code = code
        self.message = message
        self.replyBody = replyBody
        self.sendsErrorHeaders = sendsErrorHeaders
    }

    /// `code message`.
    public var description: String { "\(code) \(message)" }

    /// The header with the error's message (ADR-32).
    public static let errorHeader = "Nats-Service-Error"
    /// The header with the error's code (ADR-32).
    public static let errorCodeHeader = "Nats-Service-Error-Code"

    /// The error of a reply that carries the service error headers, if it does.
    public init?(reply: NATSMessage) {
        guard let headers = reply.headers, let code = headers[Self.errorCodeHeader].flatMap({ Int($0) })
        else {
            return nil
        }
        self.init(code: code, message: headers[Self.errorHeader] ?? "")
    }
}

/// Handles the requests of one endpoint. Throwing a ``ServiceError`` answers with it; any
/// other error answers `500 internal error` and is recorded as the endpoint's last error.
public typealias ServiceHandler = @Sendable (ServiceRequest) async throws -> ServiceReply
