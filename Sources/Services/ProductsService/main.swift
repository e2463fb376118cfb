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

/// ProductsService: Northwind products, categories and suppliers over NATS (products.*).
/// handlers (`ProductsHandlers`) → repository (`ProductsRepository`) → libpq pool.
let summary =
    "Northwind products, categories and suppliers over NATS (subjects products.*), stored in PostgreSQL"
let variables =
    NATSSettings.variables
    + DatabaseSettings.variables
    + EventSettings.variables
    + ProcessSetup.loggingVariables
let (nats, database, events, logging) = ProcessSetup.settings(
    service: "ProductsService", summary: summary, variables: variables
) { reader in
    (
        NATSSettings(reader), DatabaseSettings(reader), EventSettings(reader),
        ProcessSetup.logging(reader)
    )
}
let logger = ProcessSetup.logger(label: "products-service", json: logging.json, level: logging.level)

do {
    let pool = try PostgresPool(
        conninfo: database.conninfo, size: database.poolSize, spansIn: ProcessTracing.recordedTraces)
    MetricsExport.observe(pool)
    let changes = ChangeTracking(
        service: "products", database: pool, conninfo: database.conninfo, events: events, logger: logger)
    let repository = ProductsRepository(database: pool, changes: changes)
    let handlers = ProductsHandlers(repository: repository)
    try await whenDatabaseReachable(logger: logger) {
        try await repository.migrate()
        try await changes.migrate()
    }
    let app = ServiceApp(
        config: ServiceConfig(
            name: "products", version: "1.0.0", description: summary, executor: pool.executor),
        nats: nats,
        logger: logger)
    try await app.run(
        [
            .raw("findAllProducts", subject: ProductsSubject.list) { _, body in try await handlers.list(body)
            }
            .answeringOriginal { _, data in try await handlers.originalList(data) },
            .raw("findOneProduct", subject: ProductsSubject.get) { _, body in try await handlers.get(body) }
                .answeringOriginal { _, data in try await handlers.originalGet(data) },
            .raw("createProduct", subject: ProductsSubject.create) { context, body in
                try await handlers.create(body, origin: WriteOrigin(context, request: body))
            },
            .raw("updateProduct", subject: ProductsSubject.update) { context, body in
                try await handlers.update(body, origin: WriteOrigin(context, request: body))
            }
            .answeringOriginal { context, data in
                try await handlers.originalUpdate(data, origin: WriteOrigin(requestID: context.requestID))
            },
            .raw("deleteProduct", subject: ProductsSubject.delete) { context, body in
                try await handlers.delete(body, origin: WriteOrigin(requestID: context.requestID))
            },
            .raw("findAllCategories", subject: ProductsSubject.listCategories) { _, body in
                try await handlers.listCategories(body)
            },
            .raw("findOneCategory", subject: ProductsSubject.getCategory) { _, body in
                try await handlers.getCategory(body)
            },
            .raw("findAllSuppliers", subject: ProductsSubject.listSuppliers) { _, body in
                try await handlers.listSuppliers(body)
            },
            .raw("findOneSupplier", subject: ProductsSubject.getSupplier) { _, body in
                try await handlers.getSupplier(body)
            },
        ],
        alongside: { nats in await changes.run(nats) })
    exit(0)
} catch {
    logger.critical("ProductsService failed: \(error)")
    exit(1)
}
