/// When to try again after a lost connection: ADR-40's "at once, then back off
/// exponentially with jitter". Pure arithmetic, so its rules are testable without a server.
public struct ReconnectPolicy: Sendable, Equatable {
    /// Whether a lost connection is re-established at all.
    public var enabled: Bool
    /// The wait after the first pass over the server pool failed (nats.go: 2 s).
    public var initialWait: Duration
    /// The longest wait between two passes.
    public var maxWait: Duration
    /// Each further failed pass multiplies the wait by this.
    public var multiplier: Double
    /// A random extra wait in `0...jitter`, so that many clients do not retry in step
    /// (nats.go: 100 ms, 1 s with TLS).
    public var jitter: Duration
    /// Failed attempts per server before it leaves the pool; `nil` is unlimited (nats.go: 60).
    public var maxAttemptsPerServer: Int?

    /// A policy; the defaults are nats.go's (2 s, growing to 30 s, 100 ms of jitter, 60 attempts per server).
    public init(
        enabled: Bool = true, initialWait: Duration = .seconds(2), maxWait: Duration = .seconds(30),
        multiplier: Double = 2, jitter: Duration = .milliseconds(100), maxAttemptsPerServer: Int? = 60
    ) {
        self.enabled = enabled
        self.initialWait = initialWait
        self.maxWait = maxWait
        self.multiplier = multiplier
        self.jitter = jitter
        self.maxAttemptsPerServer = maxAttemptsPerServer
    }

    /// nats.go's defaults, with exponential backoff capped at 30 s.
    public static let `default` = ReconnectPolicy()
    /// Never reconnect: a lost connection closes the client.
    public static let disabled = ReconnectPolicy(enabled: false)

    /// The wait before pass `pass` over the pool (0 is the first, tried at once), with
    /// `random` in `0...1` choosing the jitter.
    public func wait(beforePass pass: Int, random: Double) -> Duration {
        guard pass > 0 else { return .zero }
        var wait = initialWait
        var remaining = pass - 1
        while remaining > 0 && wait < maxWait {
            wait = wait * multiplier
            remaining -= 1
        }
        wait = min(wait, maxWait)
        return wait + jitter * min(max(random, 0), 1)
    }
}
