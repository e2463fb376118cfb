/// Traffic counters of one client.
public struct NATSStatistics: Sendable, Equatable {
    public var inMessages: UInt64
    public var inBytes: UInt64
    public var outMessages: UInt64
    public var outBytes: UInt64
    public var reconnects: UInt64
    /// Keepalive PINGs the server sent, each answered with a PONG.
    public var serverPings: UInt64 = 0
}
