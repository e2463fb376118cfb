import Foundation
import TestHarness
import Testing

/// One HTTP request is one trace: the gateway's server span (continuing the caller's
/// `traceparent`), its NATS request span, the service's span and its database spans, each
/// the child of the one before, exported over OTLP/HTTP to a collector that decodes them
/// with OpenTelemetry's own classes.
@Suite("Tracing across HTTP, NATS and the databases", .serialized, .timeLimit(.minutes(5)))
struct TracingTests {
    @Test func oneRequestIsOneTraceThroughEachService() async throws {
        let receiver = try TraceReceiver()
        defer { receiver.stop() }
        let tracing: [String: String] = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50",
            "LOG_LEVEL": "debug",
        ]
        let access = FullStack.NATSAccess(environment: { _ in tracing })
        try await withFullStack(access: access) { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            let cases: [(path: String, service: String, subject: String, database: String)] = [
                ("/products/1", "ProductsService", "products.findOneProduct", "postgresql"),
                ("/customers/ALFKI", "CustomersService", "customers.findCustomer", "postgresql"),
                ("/auth/me", "AuthService", "auth.me", "mongodb"),
            ]
            for item in cases {
                let traceID = Self.hex(16)
                let callerSpan = Self.hex(8)
                let reply = try await stack.send(
                    "GET", item.path, token: token, headers: ["traceparent": "00-\(traceID)-\(callerSpan)-01"]
                )
                #expect(reply.status == 200, "\(item.path)")

                var trace: [TraceReceiver.Span] = []
                let complete = await eventually(timeout: .seconds(20)) {
                    trace = receiver.spans.filter { $0.traceID == traceID }
                    return trace.contains { $0.service == item.service && $0.kind == 3 }
                        && trace.contains { $0.service == "Gateway" && $0.kind == 2 }
                }
                #expect(complete, "spans of \(item.path): \(trace.map { "\($0.service) \($0.name)" })")

                let server = try #require(trace.first { $0.service == "Gateway" && $0.kind == 2 })
                #expect(server.parentSpanID == callerSpan)
                // Named by its route, with OpenTelemetry's HTTP attributes.
                #expect(
                    server.name == "GET \(server.attributes["http.route"] ?? "?")"
                        && server.name.contains("/"))
                #expect(server.attributes["http.response.status_code"] == "200")
                #expect(server.attributes["url.path"] == item.path)
                let send = try #require(trace.first { $0.service == "Gateway" && $0.kind == 3 })
                #expect(send.parentSpanID == server.spanID)
                #expect(send.attributes["messaging.destination.name"] == item.subject)
                let handler = try #require(trace.first { $0.service == item.service && $0.kind == 2 })
                #expect(handler.parentSpanID == send.spanID)
                #expect(handler.name == item.subject)
                let queries = trace.filter { $0.service == item.service && $0.kind == 3 }
                #expect(!queries.isEmpty && queries.allSatisfy { $0.parentSpanID == handler.spanID })
                #expect(queries.allSatisfy { $0.attributes["db.system.name"] == item.database })
                #expect(trace.allSatisfy { $0.status != 2 })
                // The service's request log line names the trace and its span.
                let logged = await eventually {
                    stack.log(of: item.service).contains("span_id=\(handler.spanID)")
                        && stack.log(of: item.service).contains("trace_id=\(traceID)")
                }
                #expect(logged, "no log line of \(item.service) with the trace")
            }

            // A trace the caller does not record (flags 00) is carried on but makes no spans:
            // once a later, recorded request's spans have come from every process (each
            // exports in order), none of the unrecorded trace's may be among them.
            let unrecorded = Self.hex(16)
            let quiet = try await stack.send(
                "GET", "/products/1", token: token,
                headers: ["traceparent": "00-\(unrecorded)-\(Self.hex(8))-00"])
            #expect(quiet.status == 200)
            let marker = Self.hex(16)
            _ = try await stack.send(
                "GET", "/products/1", token: token, headers: ["traceparent": "00-\(marker)-\(Self.hex(8))-01"]
            )
            let markerArrived = await eventually(timeout: .seconds(20)) {
                let spans = receiver.spans.filter { $0.traceID == marker }
                return Set(spans.map(\.service)) == ["Gateway", "ProductsService"] && spans.count >= 4
            }
            #expect(markerArrived)
            #expect(receiver.spans.allSatisfy { $0.traceID != unrecorded })
            let carried = await eventually {
                stack.log(of: "ProductsService").contains("trace_id=\(unrecorded)")
            }
            #expect(carried, "the unrecorded trace's id is not in the service's log")

            // No SQL values leave the process: the statement text has placeholders only.
            let postgres = receiver.spans.filter { $0.attributes["db.system.name"] == "postgresql" }
            #expect(!postgres.isEmpty && postgres.allSatisfy { $0.attributes["db.statement.name"] != nil })
            #expect(postgres.allSatisfy { !$0.attributes.values.contains { $0.contains("ALFKI") } })
            // A client's mistake (404) is not a failed span.
            let missing = Self.hex(16)
            _ = try await stack.send(
                "GET", "/products/32000", token: token,
                headers: ["traceparent": "00-\(missing)-\(Self.hex(8))-01"])
            var handled: TraceReceiver.Span?
            var answered: TraceReceiver.Span?
            _ = await eventually(timeout: .seconds(20)) {
                handled = receiver.spans.first {
                    $0.traceID == missing && $0.service == "ProductsService" && $0.kind == 2
                }
                answered = receiver.spans.first {
                    $0.traceID == missing && $0.service == "Gateway" && $0.kind == 2
                }
                return handled != nil && answered != nil
            }
            #expect(handled?.status == 0 && handled?.attributes["natswire.error_code"] == "404")
            #expect(answered?.status == 0 && answered?.attributes["http.response.status_code"] == "404")
            // The export is visible in the process's metrics.
            let (_, notScraped) = await stack.gatewayMetrics(containing: [
                "# HELP tracing_spans_exported_total", "tracing_spans_dropped_total 0",
                "tracing_export_failures_total 0",
            ])
            #expect(notScraped.isEmpty, "missing from /metrics: \(notScraped)")
        }
    }

    /// A collector that is not there costs the requests nothing: they are answered, the
    /// failures are counted and logged once.
    @Test func aMissingCollectorLosesSpansNotRequests() async throws {
        let closed = try freePort()
        let tracing: [String: String] = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(closed)", "OTEL_BSP_SCHEDULE_DELAY": "20",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "200",
        ]
        try await withFullStack(access: FullStack.NATSAccess(environment: { _ in tracing })) { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            for _ in 0..<20 {
                #expect(try await stack.send("GET", "/products/1", token: token).status == 200)
            }
            let counted = await eventually(timeout: .seconds(20)) {
                let text = (try? await stack.sendText("/metrics")) ?? ""
                return text.split(separator: "\n").contains {
                    $0.hasPrefix("tracing_export_failures_total ") && !$0.hasSuffix(" 0")
                }
            }
            #expect(counted, "no failed export counted")
            let log = stack.log(of: "Gateway")
            #expect(
                log.components(separatedBy: "spans not exported").count == 2,
                "logged once: \(log.suffix(2000))")
        }
    }

    static func hex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 1...255)) }.joined()
    }
}
