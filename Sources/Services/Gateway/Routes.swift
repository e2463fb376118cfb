import Contracts
import HTTPTypes
import Hummingbird
import NATSWire

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Gateway {
    /// Registers every operation of ``API/operations``: those that need a token in a group
    /// behind ``BearerAuthentication``, the others on the router itself.
    func routes(_ router: Router<GatewayContext>) {
        let secured = router.group().add(middleware: BearerAuthentication(verifier: verifier))
        let admins = router.group().add(middleware: BearerAuthentication(verifier: verifier))
            .add(middleware: RequireRole(role: "admin"))
        for operation in API.operations {
            let responder = self.responder(operation)
            switch operation.access {
            case .open: router.on(RouterPath(operation.routerPath), method: operation.method, use: responder)
            case .bearer:
                secured.on(RouterPath(operation.routerPath), method: operation.method, use: responder)
            case .admin:
                admins.on(RouterPath(operation.routerPath), method: operation.method, use: responder)
            }
        }
    }

    private func responder(_ operation: Operation)
        -> @Sendable (Request, GatewayContext) async -> Response
    {
        switch operation.target {
        case .forward(let subject, _, let status) where settings.upstreams.of(subject: subject) == .nest:
            guard let call = operation.original else {
                return Self.notOffered(String(subject.prefix { $0 != "." }))
            }
            return { request, context in
                await handleOriginal(request, context, call: call, subject: subject, status: status)
            }
        case .forward(let subject, let input, let status):
            return { request, context in
                await handle(request, context, subject: subject, input: input, status: status)
            }
        case .local(.health):
            return { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
            }
        case .local(.ready): return { _, _ in await readiness() }
        case .local(.events): return { request, _ in eventStream(request) }
        case .local(.openAPI):
            return { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
            }
        case .local(.docs):
            return { _, _ in
                Response(
                    status: .ok,
                    headers: [
                        .contentType: "text/html; charset=utf-8",
                        .contentSecurityPolicy: DocsPage.contentSecurityPolicy,
                    ],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: DocsPage.html)))
            }
        case .local(.metrics):
            return { _, _ in Self.prometheusText(metrics.render()) }
        case .local(.serviceMetrics):
            return { _, _ in
                Self.prometheusText(
                    await metrics.renderServices(nats: nats, timeout: settings.metricsGatherTimeout))
            }
        }
    }

    private static func prometheusText(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Ready when NATS is connected and every service answers: ours a services-API ping, an
    /// original service (which has no services API) a NestJS request.
    func readiness() async -> Response {
        var missing: [String] = []
        if nats.status != .connected { missing.append("nats") }
        for service in Upstreams.services where nats.status == .connected {
            switch settings.upstreams.of(service: service) {
            case .natswire:
                do {
                    _ = try await nats.request([UInt8](), to: "$SRV.PING.\(service)", timeout: .seconds(1))
                } catch {
                    missing.append(service)
                }
            case .nest:
                if await !originalAnswers(Self.probeSubjects[service] ?? "") { missing.append(service) }
            }
        }
        let body =
            missing.isEmpty
            ? #"{"ready":true}"# : #"{"ready":false,"missing":["\#(missing.joined(separator: "\",\""))"]}"#
        return Response(
            status: missing.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// A subject of each original service to probe for readiness.
    static let probeSubjects = [
        "auth": AuthSubject.login, "customers": CustomersSubject.get, "products": ProductsSubject.get,
    ]
}
