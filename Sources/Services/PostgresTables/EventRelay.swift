import Logging
import NATSWire
import PostgresStore
import ServiceRuntime
import Synchronization

/// Publishes the outbox's events to JetStream in commit order and deletes each once the
/// stream acknowledged it. One relay per service holds the lease (a PostgreSQL advisory
/// lock on its own session): replicas wait, and take over when the holder's session ends.
/// An event published again after a crash (stored, not yet deleted) carries the same
/// `Nats-Msg-Id`, which the stream's de-duplication window drops: each event is stored once.
public final class EventRelay: Sendable {
    let outbox: EventOutbox
    let database: PostgresPool
    /// A connection of its own for the lease: the lock lives as long as this session.
    let lease: PostgresPool
    let logger: Logger
    let batchSize = 256
    private let doorbell = Doorbell()
    /// Events published since start (for logs and tests).
    private let published = Atomic<Int>(0)

    public init(outbox: EventOutbox, database: PostgresPool, conninfo: String, logger: Logger) throws {
        self.outbox = outbox
        self.database = database
        lease = try PostgresPool(conninfo: conninfo, size: 1)
        self.logger = logger
    }

    /// Says that a change was committed: the relay looks at once instead of at its next poll.
    public func poke() { doorbell.ring() }

    /// Relays until the task is cancelled. Without the lease, or while NATS or the database
    /// is away, it tries again after `interval`; events wait in the outbox meanwhile. Under
    /// a stream of changes, batches start at most every `gap`, so each carries many events
    /// (a batch costs a select, a subscription and a delete however small it is).
    public func run(
        _ nats: NATSClient, interval: Duration = .milliseconds(250), gap: Duration = .milliseconds(10)
    ) async {
        guard outbox.settings.enabled else { return }
        let jetStream = nats.jetStream()
        var streamReady = false
        var failures = 0
        // The lease is checked again every second: a holder whose session ended (and whose
        // lock went with it) may publish for that second what another relay also publishes,
        // which the stream's de-duplication drops.
        var leaseCheckedAt: ContinuousClock.Instant?
        var lastBatch = ContinuousClock.now - gap
        while !Task.isCancelled {
            var more = false
            do {
                if !streamReady {
                    try await outbox.settings.ensureStream(jetStream)
                    streamReady = true
                }
                if leaseCheckedAt.map({ ContinuousClock.now - $0 > .seconds(1) }) ?? true {
                    leaseCheckedAt = try await holdsLease() ? ContinuousClock.now : nil
                }
                if leaseCheckedAt != nil {
                    let since = ContinuousClock.now - lastBatch
                    if since < gap { try? await Task.sleep(for: gap - since) }
                    lastBatch = .now
                    more = try await relayBatch(jetStream)
                }
                if failures > 0 { logger.info("event relay working again") }
                failures = 0
            } catch {
                if failures == 0 { logger.warning("event relay waits: \(error)") }
                failures += 1
                streamReady = false
                leaseCheckedAt = nil
            }
            if more { continue }
            await doorbell.wait(upTo: interval)
        }
    }

    /// Takes the lease if it is free; `true` while this relay holds it.
    func holdsLease() async throws -> Bool {
        let key = Self.leaseKey(outbox.service)
        let result = try await lease.run(
            """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                AND classid = 0 AND objid = $1::bigint AND granted)
              OR pg_try_advisory_lock($1::bigint)
            """, [String(key)], prepared: "event_relay_lease")
        return result.string(0, 0) == "t"
    }

    /// Publishes one batch in order and deletes what the stream stored; `true` if the batch
    /// was full (more may wait).
    func relayBatch(_ jetStream: JetStream) async throws -> Bool {
        let pending = try await database.run(
            "SELECT seq, subject, event_id, document FROM \(outbox.table) ORDER BY seq LIMIT $1",
            [String(batchSize)], prepared: "\(outbox.table) pending")
        guard pending.rowCount > 0 else { return false }
        // Published back to back, acknowledgements awaited in order: the stream stores one
        // connection's messages in the order sent. The stored prefix is deleted; after a
        // failure the rest is sent again next time (an event the stream already has is
        // dropped as a duplicate of its Nats-Msg-Id).
        let publisher = try jetStream.asyncPublisher(maxPending: batchSize)
        defer { publisher.close() }
        var sent: [(seq: String, ack: PubAckFuture)] = []
        var stored: [String] = []
        defer {
            if !stored.isEmpty { published.add(stored.count, ordering: .relaxed) }
        }
        do {
            for row in 0..<pending.rowCount {
                guard let seq = pending.string(row, 0), let subject = pending.string(row, 1),
                    let eventID = pending.string(row, 2)
                else { continue }
                let document = pending.bytes(row, 3).map { Array($0) } ?? []
                sent.append(
                    (
                        seq,
                        try await publisher.publish(
                            document, to: subject, options: PublishOptions(messageID: eventID))
                    ))
            }
            for (seq, ack) in sent {
                _ = try await ack.value
                stored.append(seq)
            }
        } catch {
            try await delete(stored)
            throw error
        }
        try await delete(stored)
        return pending.rowCount == batchSize
    }

    private func delete(_ seqs: [String]) async throws {
        guard !seqs.isEmpty else { return }
        try await database.execute(
            "DELETE FROM \(outbox.table) WHERE seq = ANY($1::bigint[])",
            ["{" + seqs.joined(separator: ",") + "}"],
            prepared: "\(outbox.table) delete")
    }

    /// Events this relay published since it started.
    public var publishedCount: Int { published.load(ordering: .relaxed) }

    /// The advisory lock key of a service's relay (a small stable number per service name).
    static func leaseKey(_ service: String) -> Int {
        var hash: UInt32 = 2_166_136_261  // FNV-1a, 32 bits
        for byte in service.utf8 {
            hash ^= UInt32(byte)
            hash &*= 16_777_619
        }
        return 7_240_000 + Int(hash % 100_000)
    }
}

/// A wake-up that is not lost: a ring while nobody waits is kept for the next wait.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        var round = 0
    }
    private let state = Mutex(State())

    func ring() { ring(round: nil) }

    private func ring(round: Int?) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let round, round != state.round { return nil }
            guard let waiter = state.waiter else {
                if round == nil { state.rung = true }
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next ring (or at once for one that came while nobody waited), or
    /// after `timeout`.
    func wait(upTo timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let round = state.withLock { state -> Int? in
                if state.rung {
                    state.rung = false
                    return nil
                }
                state.round += 1
                state.waiter = continuation
                return state.round
            }
            guard let round else { return continuation.resume() }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                ring(round: round)
            }
        }
    }
}
