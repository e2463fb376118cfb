/// Traffic counters of one client.
public struct NATSStatistics: Sendable, Equatable {
    /// Messages received.
    public var inMessages: UInt64
    /// Payload bytes received.
    public var inBytes: UInt64
    /// Messages published.
    public var outMessages: UInt64
    /// Payload bytes published.
    public var outBytes: UInt64
    /// Reconnections since the client connected.
    public var reconnects: UInt64
    /// Keepalive PINGs the server sent, each answered with a PONG.
    public var serverPings: UInt64 = 0
    /// Messages dropped because a subscription's consumer fell behind its pending limits
    /// (a slow consumer), over every subscription.
    public var droppedMessages: UInt64 = 0
    /// Bytes published but not yet written to the socket (including what is kept for the
    /// next connection while disconnected).
    public var pendingBytes: UInt64 = 0
}
