/// One operation received from the server, as produced by ``ProtocolParser``.
enum ServerOperation: Sendable, Equatable {
    /// `MSG` or `HMSG`: a message for the subscription with the given sid.
    case message(sid: UInt64, NATSMessage)
    /// `INFO {json}`: the server's information; sent at connect and again at any time.
    indirect case info(ServerInfo)
    case ping
    case pong
    /// `+OK` (verbose mode only).
    case ok
    /// `-ERR 'text'`: the server's error text without the quotes.
    case error(String)
}
