import Foundation
import NATSWire
import TestHarness
import Testing

@testable import ServiceRuntime

@Suite("Prometheus text: parsing, labelling, merging")
struct PrometheusTextTests {
    let emitted = """
        # TYPE service_requests_total counter
        service_requests_total{endpoint="get"} 3
        service_requests_total{endpoint="list"} 1
        # HELP service_request_duration_seconds Time.
        # TYPE service_request_duration_seconds histogram
        service_request_duration_seconds_bucket{endpoint="get",le="0.001"} 2
        service_request_duration_seconds_bucket{endpoint="get",le="+Inf"} 3
        service_request_duration_seconds_sum{endpoint="get"} 0.0031
        service_request_duration_seconds_count{endpoint="get"} 3
        # TYPE nats_client_pending_bytes gauge
        nats_client_pending_bytes 0

        """

    @Test func familiesKeepTheirSamples() {
        let text = PrometheusText(parsing: emitted)
        #expect(
            text.families.map(\.name) == [
                "service_requests_total", "service_request_duration_seconds", "nats_client_pending_bytes",
            ])
        #expect(text.families[1].samples.count == 4)
        #expect(text.families[1].help == "Time.")
        #expect(text.families[0].type == "counter")
    }

    @Test func labelsGoInFrontOfEverySample() {
        let text = PrometheusText(parsing: emitted).labelled([
            (name: "service", value: "products"), (name: "service_instance", value: "a\"b\\c"),
        ])
        let rendered = text.rendered()
        #expect(
            rendered.contains(
                #"service_requests_total{service="products",service_instance="a\"b\\c",endpoint="get"} 3"#))
        #expect(
            rendered.contains(#"nats_client_pending_bytes{service="products",service_instance="a\"b\\c"} 0"#))
        #expect(
            rendered.contains(
                #"service_request_duration_seconds_bucket{service="products",service_instance="a\"b\\c",endpoint="get",le="+Inf"} 3"#
            ))
    }

    @Test func mergedFamiliesAppearOnceWithHelpFilledIn() {
        var merged = PrometheusText(parsing: emitted).labelled([(name: "i", value: "1")])
        merged.merge(PrometheusText(parsing: emitted).labelled([(name: "i", value: "2")]))
        let rendered = merged.rendered(help: { $0 == "service_requests_total" ? "Requests." : nil })
        let lines = rendered.split(separator: "\n")
        #expect(lines.filter { $0 == "# TYPE service_requests_total counter" }.count == 1)
        #expect(lines.filter { $0.hasPrefix("service_requests_total{") }.count == 4)
        #expect(lines.contains("# HELP service_requests_total Requests."))
        #expect(lines.contains("# HELP service_request_duration_seconds Time."))
        // The samples of a family stay together, after its TYPE line.
        let type = lines.firstIndex(of: "# TYPE service_requests_total counter") ?? 0
        #expect(lines[(type + 1)...(type + 4)].allSatisfy { $0.hasPrefix("service_requests_total{") })
    }

    @Test func namesBecomePrometheusNames() {
        let (name, labels) = MetricCatalog.sanitize("hb.requests", [("http.route", "/x")])
        #expect(name == "http_server_requests_total" && labels.first?.0 == "http_route")
        #expect(MetricCatalog.sanitize("some.thing-else", []).0 == "some_thing_else")
        #expect(MetricCatalog.sanitize(MetricCatalog.serviceRequests, []).0 == MetricCatalog.serviceRequests)
    }

    @Test func procStatFields() throws {
        let line =
            "4242 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 9 0 100 123456 300 18446744073709551615"
        let stat = try #require(ProcessStat.parse(ArraySlice(line.utf8)))
        #expect(stat.threads == 9)
        #expect(stat.residentBytes == 300 * Int(sysconf(Int32(_SC_PAGESIZE))))
        #expect(abs(stat.cpuSeconds - 400 / Double(sysconf(Int32(_SC_CLK_TCK)))) < 1e-9)
        #expect(ProcessStat.parse(ArraySlice("garbage".utf8)) == nil)
    }
}

@Suite("Metrics of every process", .serialized, .timeLimit(.minutes(5)))
struct MetricsEndToEndTests {
    /// With the system's NATS permissions (each process only what it needs): the gateway's
    /// own metrics, and every service's gathered over NATS, after real traffic; both pass
    /// `promtool check metrics`.
    @Test func gatewayAndServicesAreScrapeable() async throws {
        try await withFullStack(access: try .secured()) { stack in
            let token = try #require(try await stack.login()["access_token"] as? String)
            #expect(try await stack.send("GET", "/products/1", token: token).status == 200)
            let unknown = try await stack.send("GET", "/products/9999", token: token)
            #expect(unknown.status == 404, "\(unknown.status) \(unknown.object)")
            #expect(try await stack.send("GET", "/customers/ALFKI", token: token).status == 200)

            let gatewayLines = [
                #"http_server_requests_total{http_route="/products/{id}",http_request_method="GET",http_response_status_code="200"} 1"#,
                #"http_server_requests_total{http_route="/products/{id}",http_request_method="GET",http_response_status_code="404"} 1"#,
                #"http_server_request_duration_seconds_bucket{http_route="/products/{id}",http_request_method="GET",http_response_status_code="200",le="+Inf"} 1"#,
                "gateway_token_cache_misses_total",
                "gateway_token_cache_hits_total",
                "nats_client_connected 1",
                "# HELP process_resident_memory_bytes",
            ]
            let (gateway, missing) = await stack.gatewayMetrics(containing: gatewayLines)
            #expect(missing.isEmpty, "\(missing)\n\(gateway)")

            let services = try await stack.sendText("/metrics/services")
            for service in ["auth", "customers", "products"] {
                #expect(services.contains(#"gateway_metrics_instances_answered{service="\#(service)"} 1"#))
                #expect(services.contains(#"nats_client_connected{service="\#(service)",service_instance=""#))
            }
            #expect(
                services.range(
                    of:
                        #"service_requests_total\{service="products",service_instance="[^"]+",endpoint="findOneProduct"\} 2"#,
                    options: .regularExpression) != nil, "\(services)")
            #expect(
                services.range(
                    of:
                        #"service_request_errors_total\{service="products",service_instance="[^"]+",endpoint="findOneProduct",code="404"\} 1"#,
                    options: .regularExpression) != nil)
            #expect(
                services.range(
                    of:
                        #"service_requests_total\{service="auth",service_instance="[^"]+",endpoint="loginUser"\} 1"#,
                    options: .regularExpression) != nil)
            #expect(services.contains(#"db_pool_connections_open{service="products""#))
            #expect(services.contains(#"db_pool_connections_busy{service="auth""#))
            #expect(services.contains(#"auth_bcrypt_queue_length{service="auth""#))

            for (name, text) in [("gateway", gateway), ("services", services)] {
                let check = try await promtool(text)
                #expect(check.status == 0, "promtool on \(name): \(check.output)")
            }
        }
    }

    private func promtool(_ text: String) async throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "metrics-\(UUID().uuidString.prefix(8)).txt")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await ChildProcess.run("/bin/sh", ["-c", "promtool check metrics < '\(file.path)'"])
    }
}

@Suite("The health file of exec probes", .timeLimit(.minutes(2)))
struct HealthFileTests {
    @Test func presentWhileNATSAnswersGoneWhenItDoesNot() async throws {
        let server = try NATSServer()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "healthy-\(UUID().uuidString.prefix(8))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: file) }
        var options = NATSOptions(url: server.url)
        options.reconnect.maxAttemptsPerServer = nil
        let nats = try await NATSClient.connect(options)
        let health = Task {
            await HealthFile.maintain(
                file, nats: nats, interval: .milliseconds(20), roundTripTimeout: .milliseconds(200))
        }
        #expect(await eventually { FileManager.default.fileExists(atPath: file) })
        server.stop()
        #expect(await eventually(timeout: .seconds(10)) { !FileManager.default.fileExists(atPath: file) })
        health.cancel()
        await health.value
        #expect(!FileManager.default.fileExists(atPath: file))
        await nats.close()
    }
}
