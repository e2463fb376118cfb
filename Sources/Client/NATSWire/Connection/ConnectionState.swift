/// The life of a connection, kept apart from the I/O so that its rules can be tested alone.
///
/// `connecting → connected → (reconnecting → connected)* → closing → closed`; a connection
/// that fails for good goes straight to `closed`.
public enum ConnectionStatus: String, Sendable, Equatable {
    /// Connecting for the first time.
    case connecting
    /// Connected to a server.
    case connected
    /// The connection was lost; trying the servers of the pool.
    case reconnecting
    /// Closing (draining, or closed by the program).
    case closing
    /// Closed for good.
    case closed
}

struct ConnectionStateMachine: Sendable {
    private(set) var status = ConnectionStatus.connecting
    /// Why the connection closed, when it was not at its owner's request.
    private(set) var closeReason: NATSError?

    /// The handshake succeeded. Returns `false` if the owner closed the client meanwhile.
    mutating func connected() -> Bool {
        switch status {
        case .connecting, .reconnecting:
            status = .connected
            return true
        case .connected, .closing, .closed:
            return false
        }
    }

    /// The transport was lost; `willReconnect` when the policy allows another try.
    mutating func disconnected(willReconnect: Bool) {
        guard status == .connected || status == .connecting || status == .reconnecting else { return }
        status = willReconnect ? .reconnecting : .closing
    }

    /// The owner asked to close. Returns `false` if it was closing or closed already.
    mutating func closeRequested() -> Bool {
        switch status {
        case .closing, .closed: return false
        default:
            status = .closing
            return true
        }
    }

    /// Everything is torn down.
    mutating func closed(reason: NATSError?) {
        if status != .closed, closeReason == nil { closeReason = reason }
        status = .closed
    }
}
