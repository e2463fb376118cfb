/// A malformed or unexpected byte sequence received from the server.
///
/// The parser never traps on input: anything it cannot make sense of becomes one of these,
/// and the connection that received it is closed with a ``NATSError`` of kind
/// ``NATSError/Kind/protocolViolation``.
public struct ProtocolViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, for logs and error messages.
    public let reason: String

    init(_ reason: String) { self.reason = reason }

    /// `protocol violation: <reason>`.
    public var description: String { "protocol violation: \(reason)" }
}
