import HTTPTypes
import Hummingbird
import Logging
import NATSWire
import ServiceRuntime

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Gateway: the only HTTP entry point. Each request becomes one NATS request–reply.
let summary = "HTTP API in front of the NATS services (JWT, validation, routing)"
let settings = ProcessSetup.settings(
    service: "Gateway", summary: summary, variables: GatewaySettings.variables
) { GatewaySettings($0) }
let logger = ProcessSetup.logger(label: "gateway", json: settings.logJSON, level: settings.logLevel)

do {
    let nats = try await NATSClient.connect(try settings.nats.options(name: "gateway"))
    Task { for await event in nats.events() { ServiceApp.log(event, logger) } }
    let verifier = await TokenVerifier(nats: nats, settings: settings)
    _ = try? await verifier.refreshKeys()  // the auth service may start later: fetched again on demand
    let health = settings.nats.healthFile.map { path in Task { await HealthFile.maintain(path, nats: nats) } }
    MetricsExport.observe(nats)
    MetricsExport.observeProcess()
    let metrics = GatewayMetrics()
    let gateway = Gateway(
        nats: nats, verifier: verifier, settings: settings, logger: logger, metrics: metrics)
    let router = Router(context: GatewayContext.self)
    // The server span of each request (continuing an incoming `traceparent`), when tracing is on.
    if ProcessTracing.isEnabled { router.add(middleware: RequestTracing<GatewayContext>()) }
    router.add(middleware: HTTPMetrics())
    router.add(
        middleware: MethodNotAllowed(
            routes: API.operations.map { (method: $0.method.rawValue, path: $0.path) }))
    gateway.routes(router)
    let app = Application(
        router: router,
        // A connection that sends nothing for this long is closed: idle keep-alives and
        // clients that stall do not hold a socket forever.
        server: .http1(configuration: .init(idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)))),
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "natswire-gateway"),
        onServerRunning: { channel in
            logger.info("service ready", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
        },
        logger: logger)
    try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    health?.cancel()
    await health?.value
    await nats.close()
    ProcessTracing.shutdown()
    exit(0)
} catch {
    logger.critical("Gateway failed: \(error)")
    exit(1)
}
