import Contracts
import DataServices
import Foundation
import Logging
import NATSWire
import PostgresStore
import ServiceRuntime

/// CustomersService: the Northwind `customers` table over NATS (subjects customers.*).
/// handlers (`CustomersHandlers`) → repository (`CustomersRepository`) → libpq pool.
let summary = "Northwind customers over NATS (subjects customers.*), stored in PostgreSQL"
let variables =
    [ConfigVariable("NATS_URL", help: "NATS server URL", default: "nats://127.0.0.1:4222")]
    + DatabaseSettings.variables
    + [
        ConfigVariable("LOG_FORMAT", help: "text or json", default: "text"),
        ConfigVariable("LOG_LEVEL", help: "log level", default: "info"),
    ]
if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
    print(helpText(service: "CustomersService", summary: summary, variables: variables))
    exit(0)
}
let reader = ConfigReader()
let natsURL = reader.string("NATS_URL", default: "nats://127.0.0.1:4222") ?? ""
let database = DatabaseSettings(reader)
let logJSON = reader.oneOf("LOG_FORMAT", ["text", "json"], default: "text") == "json"
let logLevel = reader.oneOf(
    "LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info")
do { try reader.validate() } catch {
    FileHandle.standardError.write(Data("CustomersService: \(error)\n".utf8))
    exit(2)
}
bootstrapLogging(json: logJSON, level: Logger.Level(rawValue: logLevel) ?? .info)
let logger = Logger(label: "customers-service")

let handlers = CustomersHandlers(
    repository: CustomersRepository(
        database: PostgresPool(conninfo: database.conninfo, size: database.poolSize)))
do {
    let app = ServiceApp(
        config: ServiceConfig(name: "customers", version: "1.0.0", description: summary), natsURL: natsURL,
        logger: logger)
    try await app.run([
        .raw("findCustomers", subject: CustomersSubject.list) { _, body in try await handlers.list(body) },
        .raw("findCustomer", subject: CustomersSubject.get) { _, body in try await handlers.get(body) },
        .raw("createCustomer", subject: CustomersSubject.create) { _, body in try await handlers.create(body)
        },
        .raw("updateCustomer", subject: CustomersSubject.update) { _, body in try await handlers.update(body)
        },
        .raw("deleteCustomer", subject: CustomersSubject.delete) { _, body in try await handlers.delete(body)
        },
    ])
    exit(0)
} catch {
    logger.critical("CustomersService failed: \(error)")
    exit(1)
}
