import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NATSWire
import ServiceRuntime

/// Gateway: the only HTTP entry point. Each request becomes one NATS request–reply.
let summary = "HTTP API in front of the NATS services (JWT, validation, routing)"
if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
    print(helpText(service: "Gateway", summary: summary, variables: GatewaySettings.variables))
    exit(0)
}
let settings: GatewaySettings
do {
    settings = try GatewaySettings(ConfigReader())
} catch {
    FileHandle.standardError.write(Data("Gateway: \(error)\n".utf8))
    exit(2)
}
bootstrapLogging(json: settings.logJSON, level: Logger.Level(rawValue: settings.logLevel) ?? .info)
let logger = Logger(label: "gateway")

do {
    var options = NATSOptions(url: settings.natsURL)
    options.name = "gateway"
    let nats = try await NATSClient.connect(options)
    let verifier = await TokenVerifier(nats: nats, settings: settings)
    try? await verifier.refreshKeys()  // the auth service may start later: fetched again on demand
    let gateway = Gateway(nats: nats, verifier: verifier, settings: settings, logger: logger)
    let router = Router()
    gateway.routes(router)
    let app = Application(
        router: router,
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "natswire-gateway"),
        onServerRunning: { channel in
            logger.info("service ready", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
        },
        logger: logger)
    try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    await nats.close()
    exit(0)
} catch {
    logger.critical("Gateway failed: \(error)")
    exit(1)
}
