import Synchronization

/// One established connection: the transport after the handshake, its parser (which may
/// hold bytes the server sent right after its INFO) and the server's address.
struct Session {
    let transport: any Transport
    let parser: ProtocolParser
    let address: ServerAddress
}

/// What the ``Connector`` needs from its owner: opening one server, waiting between passes,
/// and taking a new session on. The client implements it with sockets and the handshake;
/// tests with a script.
protocol ConnectorHost: AnyObject {
    /// TCP (or TLS) and the NATS handshake with `address`.
    func dial(_ address: ServerAddress) throws(NATSError) -> Session
    /// Waits `duration` while disconnected (requests still time out meanwhile); `false` when
    /// the owner is closing.
    func waitWhileDisconnected(_ duration: Duration) -> Bool
    /// Whether the owner asked to close.
    var isClosing: Bool { get }
    /// After each failed attempt: a chance to expire requests whose deadline passed.
    func attemptFailed()
    /// A reconnect succeeded: restore what the session needs (subscriptions, buffered
    /// publishes). `false` when the owner closed meanwhile; the session is then dropped.
    func resume(_ session: Session) -> Bool
}

/// Finds a server and connects to it: the first connect (one pass over the pool, no
/// waiting), and reconnecting after a loss (pass after pass with the ``ReconnectPolicy``'s
/// waits, a server going away tried last, servers leaving the pool once they used up their
/// attempts). It knows nothing of the protocol loop: the owner runs that over the
/// ``Session`` it returns, and comes back here when the loop ends.
final class Connector: Sendable {
    /// The servers to (re)connect to; configured URLs plus discovered ones.
    let pool: Mutex<ServerPool>
    let policy: ReconnectPolicy
    /// `0...1`, choosing each wait's jitter.
    private let random: @Sendable () -> Double

    init(
        pool: ServerPool, policy: ReconnectPolicy,
        random: @escaping @Sendable () -> Double = { .random(in: 0...1) }
    ) {
        self.pool = Mutex(pool)
        self.policy = policy
        self.random = random
    }

    /// The first connect: one pass over the pool, no waiting. A refused credential ends it
    /// at once, since every server of a deployment would refuse it alike.
    func connectFirst(_ host: some ConnectorHost) throws(NATSError) -> Session {
        pool.withLock { $0.startPass() }
        var lastError = NATSError(.connectionFailed, "no server")
        while let address = pool.withLock({ $0.nextInPass() }) {
            do {
                return try host.dial(address)
            } catch {
                if error.kind == .authorizationViolation { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// Tries the pool pass after pass, waiting between passes as the policy says, until a
    /// server takes the connection, the pool is used up or the owner closes. `avoid` (a
    /// server going away) is tried last in the first pass.
    func reconnect(_ host: some ConnectorHost, avoiding avoid: ServerAddress?, after reason: NATSError)
        -> Result<Session, NATSError>
    {
        var lastError = reason
        var pass = 0
        while true {
            if !host.waitWhileDisconnected(policy.wait(beforePass: pass, random: random())) {
                return .failure(NATSError(.closed, "closed while reconnecting"))
            }
            pool.withLock { $0.startPass(avoiding: pass == 0 ? avoid : nil) }
            while let address = pool.withLock({ $0.nextInPass() }) {
                if host.isClosing { return .failure(NATSError(.closed, "closed while reconnecting")) }
                do {
                    let session = try host.dial(address)
                    pool.withLock { $0.succeeded(address) }
                    guard host.resume(session) else {
                        session.transport.close()
                        return .failure(NATSError(.closed, "closed while reconnecting"))
                    }
                    return .success(session)
                } catch {
                    lastError = error
                    pool.withLock {
                        _ = $0.failed(address, authorization: error.kind == .authorizationViolation)
                    }
                }
                host.attemptFailed()
            }
            if pool.withLock({ $0.isEmpty }) {
                let kind: NATSError.Kind =
                    lastError.kind == .authorizationViolation ? .authorizationViolation : .connectionClosed
                return .failure(
                    NATSError(kind, "reconnecting failed on every server; last error: \(lastError.message)"))
            }
            pass += 1
        }
    }
}
