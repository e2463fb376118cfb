import Logging
import PostgresStore
import ServiceRuntime

/// A transactional outbox in the service's own database: every change that has an event is
/// one statement that also writes the event (a data-modifying `WITH`), so an event exists
/// exactly when its change was committed. ``EventRelay`` publishes the rows.
///
/// Tables (made by ``migrate(_:)``, owned by the service's role):
/// - `<service>_outbox`: pending events in commit order, deleted once JetStream stored them.
///   A row holds the event's parts (the row as JSON, its id, version, request id, time); the
///   relay writes the document (``EventDocument``), so the database does not build JSON on
///   the write path. Rows of an older version carry the whole `document`.
/// - `<service>_event_versions`: the last version of each aggregate changed since its
///   creation. A creation is version 1 and writes no row; an update counts on from 2; a
///   delete takes the next version and removes the row, so an aggregate made again starts
///   at 1. The data row's lock orders concurrent changes of one aggregate. Rows that existed
///   before their first event start at 2 (version 1 being their unrecorded creation).
public struct EventOutbox: Sendable {
    /// The service name, the first token of its events' subjects.
    public let service: String
    public let settings: EventSettings

    public init(service: String, settings: EventSettings) {
        self.service = service
        self.settings = settings
    }

    var table: String { "\(service)_outbox" }
    var versions: String { "\(service)_event_versions" }

    /// What happened to the aggregate: the last token of the event's subject.
    public enum Change: String, Sendable {
        case created, updated, deleted
    }

    public func subject(_ change: Change) -> String { "\(service).events.\(change.rawValue)" }

    /// Creates the outbox tables if they are missing (idempotent; replicas starting at the
    /// same moment serialise on an advisory lock).
    public func migrate(_ database: PostgresPool) async throws {
        guard settings.enabled else { return }
        try await database.execute(
            """
            DO $$
            BEGIN
              PERFORM pg_advisory_xact_lock(7239002);
              CREATE TABLE IF NOT EXISTS \(table) (
                seq bigserial PRIMARY KEY,
                subject text NOT NULL,
                event_id uuid NOT NULL,
                document text);
              ALTER TABLE \(table) ALTER COLUMN document DROP NOT NULL,
                ADD COLUMN IF NOT EXISTS aggregate_id text,
                ADD COLUMN IF NOT EXISTS version bigint,
                ADD COLUMN IF NOT EXISTS request_id text,
                ADD COLUMN IF NOT EXISTS occurred_at timestamptz,
                ADD COLUMN IF NOT EXISTS data text;
              CREATE TABLE IF NOT EXISTS \(versions) (
                aggregate_id text PRIMARY KEY,
                version bigint NOT NULL);
            END $$
            """)
    }

    /// One change as one statement: `change` (an `INSERT`, `UPDATE` or `DELETE … RETURNING
    /// *` of at most one row, by its key: its event takes the one id made here) runs as the
    /// common table `alias`, and `select` is returned from it. With events on, the same
    /// statement writes the changed row's event, whose `data` is the row after
    /// the change (before it, for a delete). With an idempotency key, it also stores the key
    /// with the changed row's id: a second request with the key finds it (``IdempotencyKeys``),
    /// and two at once cannot both write (the key is the table's primary key).
    public func statement(
        _ change: String, alias: String, key: String, event: Change, select: String,
        parameters: [String?], origin: WriteOrigin, prepared: String?
    ) -> (sql: String, parameters: [String?], prepared: String?) {
        var tables = ["\(alias) AS (\(change))"]
        var all = parameters
        var suffix = ""
        if settings.enabled {
            all.append(origin.requestID)
            let requestID = all.count
            // The event id is made here: side by side under concurrent creates, PostgreSQL's
            // `gen_random_uuid()` in this statement cost its backend 12–17 µs more per event
            // than a parameter (so did every per-row expression tried in its place). A guessed
            // id gains nothing: only the service itself may publish its events (permissions).
            all.append(IDGenerator.uuid())
            let eventID = all.count
            let id = "\(alias).\(key)::text"
            let version: String
            var join = ""
            switch event {
            case .created:
                version = "1"
            case .updated:
                tables.append(
                    """
                    event_version AS (
                      INSERT INTO \(versions) (aggregate_id, version)
                      SELECT \(id), 2 FROM \(alias)
                      ON CONFLICT (aggregate_id) DO UPDATE SET version = \(versions).version + 1
                      RETURNING aggregate_id, version)
                    """)
                version = "v.version"
                join = " JOIN event_version v ON v.aggregate_id = \(id)"
            case .deleted:
                tables.append(
                    """
                    event_version AS (
                      DELETE FROM \(versions) WHERE aggregate_id IN (SELECT \(id) FROM \(alias))
                      RETURNING aggregate_id, version + 1 AS version)
                    """)
                version = "coalesce(v.version, 2)"
                join = " LEFT JOIN event_version v ON v.aggregate_id = \(id)"
            }
            tables.append(
                """
                event AS (
                  INSERT INTO \(table) (subject, event_id, aggregate_id, version, request_id, occurred_at, data)
                  SELECT '\(subject(event))', $\(eventID)::uuid, \(id), \(version), $\(requestID)::text,
                    clock_timestamp(), row_to_json(\(alias))::text
                  FROM \(alias)\(join))
                """)
            suffix += " ev2"
        }
        if let idempotency = origin.idempotency {
            all += [idempotency.key, idempotency.operation, idempotency.request]
            let n = all.count
            tables.append(
                """
                keyed AS (
                  INSERT INTO \(IdempotencyKeys.table(service)) (key, operation, request, aggregate_id)
                  SELECT $\(n - 2), $\(n - 1), $\(n), \(alias).\(key)::text FROM \(alias))
                """)
            suffix += " key"
        }
        let sql = "WITH " + tables.joined(separator: ",\n") + "\nSELECT \(select) FROM \(alias)"
        return (sql, all, prepared.map { $0 + suffix })
    }
}

/// Who asked for a change: the request id its event carries, and the idempotency key that
/// makes sending it again safe.
public struct WriteOrigin: Sendable {
    public var requestID: String
    public var idempotency: IdempotencyKey?

    public init(requestID: String, idempotency: IdempotencyKey? = nil) {
        self.requestID = requestID
        self.idempotency = idempotency
    }
}

/// Runs a start-up step (a migration) while the database may still be starting or
/// restarting: an unreachable database is tried again every half second for a minute.
public func whenDatabaseReachable(logger: Logger, _ step: () async throws -> Void) async throws {
    let giveUp = ContinuousClock.now.advanced(by: .seconds(60))
    while true {
        do {
            return try await step()
        } catch let error as PostgresError where error.kind == .unavailable && ContinuousClock.now < giveUp {
            logger.warning("database not reachable yet, retrying: \(error.message)")
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
