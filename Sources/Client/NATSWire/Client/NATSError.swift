/// Every error NATSWire throws: a ``Kind`` to switch on and a message for people, which
/// carries the server's `-ERR` text where the server gave one.
public struct NATSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, coarsely enough to act on.
    public enum Kind: String, Sendable, Equatable {
        /// No server could be reached, or the handshake failed.
        case connectionFailed
        /// The connection was lost (server gone, socket error) and is not coming back.
        case connectionClosed
        /// The client was closed by its owner.
        case closed
        /// The server refused the credentials (`Authorization Violation`, expired auth).
        case authorizationViolation
        /// The server refused a publish or subscribe on a subject (`Permissions Violation`).
        case permissionsViolation
        /// The server sent another `-ERR`.
        case serverError
        /// The server sent bytes that are not the NATS protocol.
        case protocolViolation
        /// A request or flush did not complete in time.
        case timeout
        /// A request had no subscriber to answer it (status 503).
        case noResponders
        /// A subject or queue group is not valid (ADR-6).
        case invalidSubject
        /// A header name or value cannot be sent.
        case invalidHeader
        /// The message is larger than the server's `max_payload`.
        case maxPayloadExceeded
        /// The server stopped answering PINGs.
        case staleConnection
        /// An option or argument is not usable.
        case invalidArgument
        /// A subscription dropped messages because its consumer fell behind.
        case slowConsumer
        /// A TLS setting or handshake failed.
        case tls
        /// Disconnected, and the buffer for publishes made meanwhile is full.
        case reconnectBufferFull
        /// The operation is not allowed while the connection or subscription drains.
        case draining
    }

    /// What went wrong, to act on.
    public let kind: Kind
    /// The details, for people (the server's `-ERR` text when it came from the server).
    public let message: String

    /// An error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// `kind: message`.
    public var description: String { "\(kind.rawValue): \(message)" }

    /// Classifies a server `-ERR` text.
    static func fromServer(_ text: String) -> NATSError {
        let lower = text.lowercased()
        if lower.hasPrefix("permissions violation") { return NATSError(.permissionsViolation, text) }
        if lower.hasPrefix("authorization violation") || lower.hasPrefix("authentication expired")
            || lower.hasPrefix("authentication timeout") || lower.hasPrefix("user authentication")
            || lower.hasPrefix("authorization timeout")
        {
            return NATSError(.authorizationViolation, text)
        }
        if lower.hasPrefix("stale connection") { return NATSError(.staleConnection, text) }
        if lower.hasPrefix("maximum payload") { return NATSError(.maxPayloadExceeded, text) }
        return NATSError(.serverError, text)
    }

    /// Whether the server closes the connection after sending this `-ERR` (protocol notes).
    static func serverClosesConnection(after text: String) -> Bool {
        let lower = text.lowercased()
        return
            !(lower.hasPrefix("permissions violation") || lower.hasPrefix("invalid subject")
            || lower.hasPrefix("invalid publish subject")
            || lower.hasPrefix("maximum subscriptions exceeded"))
    }
}
