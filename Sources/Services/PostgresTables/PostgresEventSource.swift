import NATSWire
import PostgresStore
import ServiceRuntime

/// A data service's outbox table (``EventOutbox``) as the relay's source. The lease is a
/// PostgreSQL advisory lock on a session of its own: it lives as long as that connection,
/// so a replica takes over when the holder stops or loses the database.
public struct PostgresEventSource: EventSource {
    let outbox: EventOutbox
    let database: PostgresPool
    /// A connection of its own for the lease.
    let lease: PostgresPool

    public init(outbox: EventOutbox, database: PostgresPool, conninfo: String) {
        self.outbox = outbox
        self.database = database
        lease = PostgresPool(conninfo: conninfo, size: 1, sharingThreadsOf: database)
    }

    public var settings: EventSettings { outbox.settings }

    public func holdsLease() async throws -> Bool {
        let key = Self.leaseKey(outbox.service)
        let result = try await lease.run(
            """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                AND classid = 0 AND objid = $1::bigint AND granted)
              OR pg_try_advisory_lock($1::bigint)
            """, [String(key)], prepared: "event_relay_lease")
        return result.string(0, 0) == "t"
    }

    public func pending(limit: Int) async throws -> [PendingEvent] {
        let rows = try await database.run(
            """
            SELECT seq, subject, event_id, document, aggregate_id, version, request_id,
              (occurred_at AT TIME ZONE 'UTC')::text, data
            FROM \(outbox.table) ORDER BY seq LIMIT $1
            """,
            [String(limit)], prepared: "\(outbox.table) pending parts")
        return (0..<rows.rowCount).compactMap { row in
            guard let seq = rows.string(row, 0), let subject = rows.string(row, 1),
                let eventID = rows.string(row, 2)
            else { return nil }
            if let whole = rows.bytes(row, 3) {
                // Written by an older version with its document.
                return PendingEvent(
                    reference: seq, subject: subject, eventID: eventID, document: Array(whole))
            }
            let document = EventDocument(
                eventID: eventID, type: subject, occurredAt: rows.string(row, 7) ?? "",
                aggregateID: rows.string(row, 4) ?? "", version: rows.string(row, 5) ?? "1",
                requestID: rows.string(row, 6) ?? "",
                data: rows.bytes(row, 8).map { Array($0) } ?? Array("null".utf8))
            return PendingEvent(reference: seq, subject: subject, eventID: eventID, document: document.json)
        }
    }

    public func published(_ events: [PendingEvent]) async throws {
        guard !events.isEmpty else { return }
        try await database.execute(
            "DELETE FROM \(outbox.table) WHERE seq = ANY($1::bigint[])",
            ["{" + events.map(\.reference).joined(separator: ",") + "}"],
            prepared: "\(outbox.table) delete")
    }

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
