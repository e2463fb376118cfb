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
    + ProcessSetup.loggingVariables
let (nats, database, logging) = ProcessSetup.settings(
    service: "CustomersService", summary: summary, variables: variables
) { reader in
    (
        NATSSettings(reader), DatabaseSettings(reader),
        ProcessSetup.logging(reader)
    )
}
let logger = ProcessSetup.logger(label: "customers-service", json: logging.json, level: logging.level)

do {
    let pool = try PostgresPool(conninfo: database.conninfo, size: database.poolSize)
    let handlers = CustomersHandlers(repository: CustomersRepository(database: pool))
    let app = ServiceApp(
        config: ServiceConfig(
            name: "customers", version: "1.0.0", description: summary, executor: pool.executor),
        nats: nats,
        logger: logger)
    try await app.run([
        .raw("findCustomers", subject: CustomersSubject.list) { _, body in try await handlers.list(body) }
            .answeringOriginal { _, data in try await handlers.originalList(data) },
        .raw("findCustomer", subject: CustomersSubject.get) { _, body in try await handlers.get(body) }
            .answeringOriginal { _, data in try await handlers.originalGet(data) },
        .raw("createCustomer", subject: CustomersSubject.create) { _, body in try await handlers.create(body)
        }
        .answeringOriginal { _, data in try await handlers.originalCreate(data) },
        .raw("updateCustomer", subject: CustomersSubject.update) { _, body in try await handlers.update(body)
        }
        .answeringOriginal { _, data in try await handlers.originalUpdate(data) },
        .raw("deleteCustomer", subject: CustomersSubject.delete) { _, body in try await handlers.delete(body)
        }
        .answeringOriginal { _, data in try await handlers.originalDelete(data) },
    ])
    exit(0)
} catch {
    logger.critical("CustomersService failed: \(error)")
    exit(1)
}
