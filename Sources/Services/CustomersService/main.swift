import Contracts
import Logging
import NATSWire
import PostgresStore
import PostgresTables
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// CustomersService: the Northwind `customers` table over NATS (subjects customers.*).
/// handlers (`CustomersHandlers`) → repository (`CustomersRepository`) → libpq pool.
let summary = "Northwind customers over NATS (subjects customers.*), stored in PostgreSQL"
let variables =
    NATSSettings.variables
    + DatabaseSettings.variables
    + EventSettings.variables
    + ProcessSetup.loggingVariables
let (nats, database, events, logging) = ProcessSetup.settings(
    service: "CustomersService", summary: summary, variables: variables
) { reader in
    (
        NATSSettings(reader), DatabaseSettings(reader), EventSettings(reader),
        ProcessSetup.logging(reader)
    )
}
let logger = ProcessSetup.logger(label: "customers-service", json: logging.json, level: logging.level)

do {
    let pool = try PostgresPool(
        conninfo: database.conninfo, size: database.poolSize, spansIn: ProcessTracing.recordedTraces)
    MetricsExport.observe(pool)
    let changes = ChangeTracking(
        service: "customers", database: pool, conninfo: database.conninfo, events: events, logger: logger)
    try await whenDatabaseReachable(logger: logger) { try await changes.migrate() }
    let handlers = CustomersHandlers(repository: CustomersRepository(database: pool, changes: changes))
    let app = ServiceApp(
        config: ServiceConfig(
            name: "customers", version: "1.0.0", description: summary, executor: pool.executor),
        nats: nats,
        logger: logger)
    try await app.run(
        [
            .raw("findCustomers", subject: CustomersSubject.list) { _, body in try await handlers.list(body) }
                .answeringOriginal { _, data in try await handlers.originalList(data) },
            .raw("findCustomer", subject: CustomersSubject.get) { _, body in try await handlers.get(body) }
                .answeringOriginal { _, data in try await handlers.originalGet(data) },
            .raw("createCustomer", subject: CustomersSubject.create) { context, body in
                try await handlers.create(body, origin: WriteOrigin(context, request: body))
            }
            .answeringOriginal { context, data in
                try await handlers.originalCreate(data, origin: WriteOrigin(requestID: context.requestID))
            },
            .raw("updateCustomer", subject: CustomersSubject.update) { context, body in
                try await handlers.update(body, origin: WriteOrigin(context, request: body))
            }
            .answeringOriginal { context, data in
                try await handlers.originalUpdate(data, origin: WriteOrigin(requestID: context.requestID))
            },
            .raw("deleteCustomer", subject: CustomersSubject.delete) { context, body in
                try await handlers.delete(body, origin: WriteOrigin(requestID: context.requestID))
            }
            .answeringOriginal { context, data in
                try await handlers.originalDelete(data, origin: WriteOrigin(requestID: context.requestID))
            },
        ],
        alongside: { nats in await changes.run(nats) })
    exit(0)
} catch {
    logger.critical("CustomersService failed: \(error)")
    exit(1)
}
