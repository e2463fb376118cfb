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
    + ProcessSetup.loggingVariables
let (nats, database, logging) = ProcessSetup.settings(
    service: "ProductsService", summary: summary, variables: variables
) { reader in
    (
        NATSSettings(reader), DatabaseSettings(reader),
        ProcessSetup.logging(reader)
    )
}
let logger = ProcessSetup.logger(label: "products-service", json: logging.json, level: logging.level)

do {
    let pool = try PostgresPool(conninfo: database.conninfo, size: database.poolSize)
    let repository = ProductsRepository(database: pool)
    let handlers = ProductsHandlers(repository: repository)
    // The database may still be starting (or restarting): keep trying for a while.
    let giveUp = ContinuousClock.now.advanced(by: .seconds(60))
    while true {
        do {
            try await repository.migrate()
            break
        } catch let error as PostgresError where error.kind == .unavailable && ContinuousClock.now < giveUp {
            logger.warning("database not reachable yet, retrying: \(error.message)")
            try await Task.sleep(for: .milliseconds(500))
        }
    }
    let app = ServiceApp(
        config: ServiceConfig(
            name: "products", version: "1.0.0", description: summary, executor: pool.executor),
        nats: nats,
        logger: logger)
    try await app.run([
        .raw("findAllProducts", subject: ProductsSubject.list) { _, body in try await handlers.list(body) }
            .answeringOriginal { _, data in try await handlers.originalList(data) },
        .raw("findOneProduct", subject: ProductsSubject.get) { _, body in try await handlers.get(body) }
            .answeringOriginal { _, data in try await handlers.originalGet(data) },
        .raw("createProduct", subject: ProductsSubject.create) { _, body in try await handlers.create(body) },
        .raw("updateProduct", subject: ProductsSubject.update) { _, body in try await handlers.update(body) }
            .answeringOriginal { _, data in try await handlers.originalUpdate(data) },
        .raw("deleteProduct", subject: ProductsSubject.delete) { _, body in try await handlers.delete(body) },
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
    ])
    exit(0)
} catch {
    logger.critical("ProductsService failed: \(error)")
    exit(1)
}
