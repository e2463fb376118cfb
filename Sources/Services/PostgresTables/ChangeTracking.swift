import Logging
import NATSWire
import PostgresStore
import ServiceRuntime

/// What a data service keeps beside its own tables for every change: the event outbox, the
/// relay that publishes it, and the idempotency keys.
public struct ChangeTracking: Sendable {
    public let outbox: EventOutbox
    public let relay: EventRelay
    public let keys: IdempotencyKeys
    let database: PostgresPool

    /// `service` names the tables (`<service>_outbox`, …) and the events' subjects.
    public init(
        service: String, database: PostgresPool, conninfo: String, events: EventSettings, logger: Logger
    ) {
        outbox = EventOutbox(service: service, settings: events)
        relay = EventRelay(
            source: PostgresEventSource(outbox: outbox, database: database, conninfo: conninfo),
            logger: logger)
        keys = IdempotencyKeys(service: service, database: database)
        self.database = database
    }

    /// Creates the tables (idempotent).
    public func migrate() async throws {
        try await outbox.migrate(database)
        try await keys.migrate()
    }

    /// Runs beside the endpoints until cancelled: publishes events, forgets old keys.
    public func run(_ nats: NATSClient) async {
        async let relayed: Void = relay.run(nats)
        await keys.expireRegularly()
        await relayed
    }
}
