/// Traffic counters of one client.
public struct NATSStatistics: Sendable, Equatable {
    public var inMessages: UInt64
    public var inBytes: UInt64
    public var outMessages: UInt64
    public var outBytes: UInt64
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
