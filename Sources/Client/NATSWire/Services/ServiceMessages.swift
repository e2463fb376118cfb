/// A request as an endpoint handler sees it.
public struct ServiceRequest: Sendable {
    /// The message as received.
    public let message: NATSMessage
    /// The endpoint's name.
    public let endpoint: String

    public var subject: String { message.subject }
    public var payload: [UInt8] { message.payload }
    public var headers: NATSHeaders? { message.headers }
}

/// What an endpoint sends back.
public struct ServiceReply: Sendable, Equatable {
    public var payload: [UInt8]
    public var headers: NATSHeaders?
    /// `false` for a request that must not be answered (an event).
    public var isSent: Bool

    public init(_ payload: [UInt8], headers: NATSHeaders? = nil) {
        self.payload = payload
        self.headers = headers
        self.isSent = true
    }

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
    public var code: Int
    public var message: String
    /// Replaces the standard JSON body (e.g. for a caller that expects its own format).
    public var replyBody: [UInt8]?
    /// Whether the reply carries the `Nats-Service-Error` headers.
    public var sendsErrorHeaders: Bool

    public init(code: Int, message: String, replyBody: [UInt8]? = nil, sendsErrorHeaders: Bool = true) {
        self.code = code
        self.message = message
        self.replyBody = replyBody
        self.sendsErrorHeaders = sendsErrorHeaders
    }

    public var description: String { "\(code) \(message)" }

    public static let errorHeader = "Nats-Service-Error"
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
