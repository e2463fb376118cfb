import Logging
import PostgresStore
import ServiceRuntime

/// A transactional outbox in the service's own database: every change that has an event is
/// one statement that also writes the event (a data-modifying `WITH`), so an event exists
/// exactly when its change was committed. ``EventRelay`` publishes the rows.
///
/// Tables (made by ``migrate(_:)``, owned by the service's role):
/// - `<service>_outbox`: pending events in commit order, deleted once JetStream stored them;
/// - `<service>_event_versions`: the last version of each aggregate. The version row is
///   locked by the writing statement, so concurrent changes of one aggregate get 1, 2, 3…
///   in the order they commit.
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
                document text NOT NULL);
              CREATE TABLE IF NOT EXISTS \(versions) (
                aggregate_id text PRIMARY KEY,
                version bigint NOT NULL);
            END $$
            """)
    }

    /// The statement that runs `change` (an `INSERT`, `UPDATE` or `DELETE … RETURNING *`)
    /// as the common table `alias` and returns `select` from it; with events on, the same
    /// statement writes one event per changed row, whose `data` is the row as it is after
    /// the change (before it, for a delete). The request id is parameter `$requestIDParameter`.
    ///
    /// Every change's own parameters come first; append the request id (``parameters(_:requestID:)``).
    public func statement(
        _ change: String, alias: String, key: String, event: Change, select: String, requestIDParameter: Int
    ) -> String {
        guard settings.enabled else {
            return "WITH \(alias) AS (\(change)) SELECT \(select) FROM \(alias)"
        }
        let subject = subject(event)
        return """
            WITH \(alias) AS (\(change)),
            event_version AS (
              INSERT INTO \(versions) (aggregate_id, version)
              SELECT \(alias).\(key)::text, 1 FROM \(alias)
              ON CONFLICT (aggregate_id) DO UPDATE SET version = \(versions).version + 1
              RETURNING aggregate_id, version),
            event AS (
              INSERT INTO \(table) (subject, event_id, document)
              SELECT '\(subject)', e.id, json_build_object(
                'event_id', e.id, 'type', '\(subject)',
                'occurred_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                'aggregate_id', v.aggregate_id, 'version', v.version,
                'request_id', $\(requestIDParameter)::text, 'data', row_to_json(\(alias)))::text
              FROM \(alias) JOIN event_version v ON v.aggregate_id = \(alias).\(key)::text
              CROSS JOIN LATERAL (SELECT gen_random_uuid() AS id) e)
            SELECT \(select) FROM \(alias)
            """
    }

    /// The change's parameters followed by the request id, when events are on.
    public func parameters(_ parameters: [String?], requestID: String) -> [String?] {
        settings.enabled ? parameters + [requestID] : parameters
    }

    /// A prepared statement's name, apart for events on and off.
    public func preparedName(_ name: String) -> String { settings.enabled ? name + " ev" : name }
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
