import Logging
import NATSWire
import ServiceLifecycle

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Runs one service process: connect to NATS, register the endpoints on the services API
/// (with NestJS envelope support), serve until SIGTERM or SIGINT, then drain and exit 0.
public struct ServiceApp: Sendable {
    public let config: ServiceConfig
    public let nats: NATSSettings
    public let logger: Logger

    public init(config: ServiceConfig, nats: NATSSettings, logger: Logger) {
        self.config = config
        self.nats = nats
        self.logger = logger
    }

    /// Serves `endpoints` until SIGTERM or SIGINT; returns after draining. Runs as a
    /// swift-service-lifecycle `ServiceGroup`, as the gateway does. `alongside` runs on the
    /// same connection once the endpoints serve (e.g. an event relay), and is cancelled when
    /// the service stops.
    public func run(
        _ endpoints: [EndpointDefinition], alongside: (@Sendable (NATSClient) async -> Void)? = nil,
        onShutdown: @escaping @Sendable () async -> Void = {}
    )
        async throws
    {
        let service = EndpointsService(
            app: self, endpoints: endpoints, alongside: alongside, onShutdown: onShutdown)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The NATS side of a service process: connect, register the endpoints on the services
    /// API, serve until the group's graceful shutdown, then drain and close.
    struct EndpointsService: Service {
        let app: ServiceApp
        let endpoints: [EndpointDefinition]
        let alongside: (@Sendable (NATSClient) async -> Void)?
        let onShutdown: @Sendable () async -> Void

        func run() async throws {
            let config = app.config
            let logger = app.logger
            let options = try app.nats.options(name: "\(config.name) \(config.version)")
            let nats = try await NATSClient.connect(options)
            let events = Task { for await event in nats.events() { ServiceApp.log(event, logger) } }
            defer { events.cancel() }
            let service = try nats.addService(config)
            for endpoint in endpoints {
                let metrics = EndpointMetrics(endpoint: endpoint.name)
                try service.addEndpoint(endpoint.name, subject: endpoint.subject) { request in
                    let start = metrics.started()
                    do {
                        let reply = try await ServiceApp.traced(request, endpoint: endpoint) {
                            try await ServiceApp.serve(request, endpoint: endpoint, logger: logger)
                        }
                        metrics.finished(start, errorCode: nil)
                        return reply
                    } catch {
                        metrics.finished(start, errorCode: (error as? ServiceError)?.code ?? 500)
                        throw error
                    }
                }
            }
            MetricsExport.observe(nats)
            MetricsExport.observeProcess()
            let metricsAnswers = Task {
                await MetricsExport.answer(on: nats, service: config.name, id: service.id, logger: logger)
            }
            try await nats.flush()
            logger.info(
                "service ready",
                metadata: [
                    "service": "\(config.name)", "id": "\(service.id)", "nats": "\(app.nats.description)",
                    "endpoints": "\(endpoints.map(\.subject).joined(separator: ","))",
                ])
            let background = alongside.map { work in Task { await work(nats) } }
            let health = app.nats.healthFile.map { path in
                Task { await HealthFile.maintain(path, nats: nats) }
            }
            // Until SIGTERM or SIGINT (or the group's cancellation).
            try? await gracefulShutdown()
            // Not ready any more before the drain starts.
            health?.cancel()
            await health?.value
            logger.info("stopping: draining in-flight requests")
            await service.stop()
            metricsAnswers.cancel()
            background?.cancel()
            await background?.value
            await onShutdown()
            await nats.close()
            ProcessTracing.shutdown()
            logger.info("stopped")
        }
    }

    /// A request in a server span, the child of the caller's (its `traceparent`), when
    /// tracing is on. A client's mistake (a 4xx reply) is not the span's failure.
    static func traced(
        _ request: ServiceRequest, endpoint: EndpointDefinition, _ body: () async throws -> ServiceReply
    ) async throws -> ServiceReply {
        guard ProcessTracing.isEnabled else { return try await body() }
        return try await ProcessTracing.withSpan(
            endpoint.subject, ofKind: .server, continuing: NATSTraceContext(headers: request.headers),
            attributes: [
                ("messaging.system", "nats"), ("messaging.destination.name", request.subject),
                ("messaging.operation.type", "process"), ("rpc.method", endpoint.name),
                ("natswire.request_id", request.headers?[HandlerContext.requestIDHeader] ?? ""),
            ]
        ) { _ in try await body() }
    }

    /// One request: native or NestJS envelope, with the request id passed on.
    static func serve(_ request: ServiceRequest, endpoint: EndpointDefinition, logger: Logger) async throws
        -> ServiceReply
    {
        let given = request.headers?[HandlerContext.requestIDHeader]
        let requestID = given ?? NUID.generate()
        let context = HandlerContext(
            requestID: requestID, endpoint: endpoint.name, logger: logger, headers: request.headers)
        // The id goes back only when it was made here: a caller that sent one has it, and a
        // reply without headers is a plain message (measured: less work for the service, the
        // server and the caller on every request).
        var replyHeaders: NATSHeaders?
        if given == nil {
            var generated = NATSHeaders()
            generated.append(requestID, for: HandlerContext.requestIDHeader)
            replyHeaders = generated
        }

        guard let envelope = NestEnvelope.detect(request.payload, subject: request.subject) else {
            do {
                let reply = try await endpoint.handle(context, request.payload)
                // One line per request at debug level (with the trace and span when traced).
                if logger.logLevel <= .debug {
                    context.logger.debug("served", metadata: ["bytes": "\(reply.count)"])
                }
                return ServiceReply(reply, headers: replyHeaders)
            } catch {
                let mapped = Self.serviceError(for: error)
                if (mapped?.code ?? 500) >= 500 { context.logger.error("request failed: \(error)") }
                throw mapped ?? error
            }
        }
        do {
            let response = try await endpoint.handleEnvelope(context, envelope.data)
            return envelope.isEvent
                ? .none : ServiceReply(envelope.reply(response: response), headers: replyHeaders)
        } catch {
            let serviceError =
                Self.serviceError(for: error) ?? ServiceError(code: 500, message: "internal error")
            if serviceError.code >= 500 { context.logger.error("request failed: \(error)") }
            guard !envelope.isEvent else {
                // An event is never answered, also when it fails: NestJS does not wait for one.
                context.logger.warning("event failed: \(serviceError.message)")
                return .none
            }
            throw ServiceError(
                code: serviceError.code, message: serviceError.message,
                replyBody: envelope.errorReply(message: serviceError.message), sendsErrorHeaders: false)
        }
    }

    /// The error reply for what a handler threw: a ``ServiceError`` as it is, an error that
    /// knows its service error (a database's 503) mapped, `nil` for anything else (a 500).
    public static func serviceError(for error: any Error) -> ServiceError? {
        error as? ServiceError ?? (error as? any ServiceErrorConvertible)?.serviceError
    }

    /// Connection events in the log: reconnects and slow consumers are what operators need.
    public static func log(_ event: NATSEvent, _ logger: Logger) {
        switch event {
        case .connected(let server): logger.info("NATS connected", metadata: ["server": "\(server)"])
        case .disconnected(let reason):
            logger.warning("NATS disconnected", metadata: ["reason": "\(reason?.description ?? "-")"])
        case .reconnected(let server): logger.notice("NATS reconnected", metadata: ["server": "\(server)"])
        case .discoveredServers(let urls):
            logger.info("NATS servers discovered", metadata: ["urls": "\(urls)"])
        case .lameDuckMode: logger.notice("NATS server entering lame duck mode: moving")
        case .serverError(let error): logger.error("NATS server error", metadata: ["error": "\(error)"])
        case .slowConsumer(let sid, let subject):
            logger.warning(
                "NATS slow consumer: dropping", metadata: ["sid": "\(sid)", "subject": "\(subject)"])
        case .closed(let reason):
            logger.notice("NATS closed", metadata: ["reason": "\(reason?.description ?? "-")"])
        }
    }
}
