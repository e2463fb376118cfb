/// Something that happened to a connection, for logs and metrics.
public enum NATSEvent: Sendable, Equatable {
    /// The first connection is up, to `server`.
    case connected(server: String)
    /// The connection was lost; the client reconnects unless it was closed.
    case disconnected(reason: NATSError?)
    /// Connected again, to `server`; subscriptions are restored and buffered publishes sent.
    case reconnected(server: String)
    /// The cluster announced servers the pool did not have yet.
    case discoveredServers([String])
    /// The server is shutting down soon; the client moves to another server of the pool.
    case lameDuckMode
    /// A `-ERR` that did not close the connection (for example a permissions violation).
    case serverError(NATSError)
    /// A subscription fell behind its pending limits and drops messages (reported once per episode).
    case slowConsumer(sid: UInt64, subject: String)
    /// The client closed for good; `reason` when it was not asked to.
    case closed(reason: NATSError?)
}
