/// Something that happened to a connection, for logs and metrics.
public enum NATSEvent: Sendable, Equatable {
    case connected(server: String)
    case disconnected(reason: NATSError?)
    case reconnected(server: String)
    case discoveredServers([String])
    case lameDuckMode
    /// A `-ERR` that did not close the connection (for example a permissions violation).
    case serverError(NATSError)
    case slowConsumer(sid: UInt64, subject: String)
    case closed(reason: NATSError?)
}
