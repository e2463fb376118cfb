import NATSWire
import Testing

@testable import PostgresStore
@testable import ServiceRuntime

/// The tracing variables, the protobuf writer and the sampler: pure logic, no processes.
@Suite struct TraceSettingsTests {
    private func settings(_ environment: [String: String]) -> (TraceSettings, [String]) {
        let reader = SettingsReader(
            arguments: ["test"], environment: environment, dotEnv: nil, known: TraceSettings.variables)
        let settings = TraceSettings(reader)
        return (settings, reader.problems)
    }

    @Test func offUnlessAnEndpointIsSet() {
        #expect(!settings([:]).0.enabled)
        #expect(
            !settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"]).0
                .enabled)
    }

    @Test func endpointsFollowTheSpecification() throws {
        let base = try #require(settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).0.endpoint)
        #expect(base == TraceEndpoint(url: "http://collector:4318/v1/traces", appendingPath: nil))
        #expect(base.host == "collector" && base.port == 4318 && base.path == "/v1/traces" && base.tls == nil)
        let prefixed = try #require(
            settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example.com/otlp/"]).0.endpoint)
        #expect(prefixed.port == 443 && prefixed.path == "/otlp/v1/traces" && prefixed.tls != nil)
        #expect(prefixed.hostHeader == "otel.example.com")
        // The signal-specific URL is used as it is.
        let exact = try #require(
            settings([
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:1",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://[::1]:9999/custom",
            ]).0.endpoint)
        #expect(exact.host == "::1" && exact.port == 9999 && exact.path == "/custom")
        #expect(exact.hostHeader == "[::1]:9999")
        for bad in ["collector:4318", "grpc://x:4317", "http://:80", "http://host:99999", "http://u@host/"] {
            #expect(!settings(["OTEL_EXPORTER_OTLP_ENDPOINT": bad]).1.isEmpty, "\(bad)")
        }
        #expect(
            !settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
                .1
                .isEmpty)
    }

    @Test func headersResourceAndSampler() {
        let (read, problems) = settings([
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s%3Dcret, x-tenant = blue ,broken",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25",
        ])
        #expect(problems.isEmpty)
        #expect(
            read.headers.map(\.0) == ["api-key", "x-tenant"] && read.headers.map(\.1) == ["s=cret", "blue"])
        #expect(read.resourceAttributes.first?.1 == "prod")
        #expect(read.sampler == TraceSampler(root: .ratio(0.25), followsParent: true))
        #expect(!settings(["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"]).1.isEmpty)
    }

    @Test func samplerDecisions() {
        let parent = NATSTraceContext(traceIDHigh: 1, traceIDLow: 2, spanID: 3, flags: 0)
        #expect(!TraceSampler(root: .always, followsParent: true).samples(parent: parent))
        #expect(TraceSampler(root: .always, followsParent: false).samples(parent: parent))
        let half = TraceSampler(root: .ratio(0.5), followsParent: false)
        let sampled = (0..<10_000).filter { _ in half.samples(rootTraceID: IDGenerator.next()) }.count
        #expect((4000...6000).contains(sampled))
        #expect(!TraceSampler(root: .ratio(0), followsParent: false).samples(rootTraceID: 1))
    }

    @Test func protobufWireFormat() {
        var writer = ProtobufWriter()
        writer.varint(1, 300)
        writer.string(2, "hi")
        writer.fixed64(3, 1)
        writer.message(4) { $0.varint(1, 1) }
        #expect(
            writer.bytes == [
                0x08, 0xAC, 0x02, 0x12, 0x02, 0x68, 0x69, 0x19, 1, 0, 0, 0, 0, 0, 0, 0, 0x22, 0x02, 0x08,
                0x01,
            ])
        var id = ProtobufWriter()
        id.ids(1, 0x0102_0304_0506_0708)
        #expect(id.bytes == [0x0A, 8, 1, 2, 3, 4, 5, 6, 7, 8])
        // A nested message longer than 127 bytes: its length takes two bytes.
        var long = ProtobufWriter()
        long.message(1) { $0.string(1, String(repeating: "a", count: 200)) }
        #expect(Array(long.bytes.prefix(5)) == [0x0A, 0xCB, 0x01, 0x0A, 0xC8] && long.bytes.count == 206)
        // Longer than 16,383 bytes: three.
        var longer = ProtobufWriter()
        longer.message(1) { $0.string(1, String(repeating: "a", count: 20_000)) }
        #expect(Array(longer.bytes.prefix(4)) == [0x0A, 0xA4, 0x9C, 0x01] && longer.bytes.count == 20_008)
        var trace = ProtobufWriter()
        trace.ids(1, 0x0102_0304_0506_0708, 0x090A_0B0C_0D0E_0F10)
        #expect(trace.bytes == [0x0A, 16] + Array(1...16))
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, .max] {
            var plain = ProtobufWriter()
            plain.varint(1, value)
            #expect(Array(VarintBytes(value)) == Array(plain.bytes.dropFirst()), "\(value)")
        }
    }

    @Test func databaseSpanNames() {
        #expect(PostgresPool.operationName("  select 1") == "SELECT")
        #expect(PostgresPool.operationName("(SELECT 1) UNION (SELECT 2)") == "SELECT")
        #expect(PostgresPool.operationName("WITH x AS (SELECT 1) SELECT * FROM x") == "WITH")
        #expect(PostgresPool.databaseName("postgresql://u:p@host:5432/northwind?sslmode=off") == "northwind")
        #expect(PostgresPool.databaseName("postgres://host/db") == "db")
        #expect(PostgresPool.databaseName("host=x dbname=shop user=y") == "shop")
        #expect(PostgresPool.databaseName("postgresql://host") == nil)
    }

    /// The fields of a protobuf message: (field number, wire type, content of a
    /// length-delimited field), failing on anything malformed.
    private func fields(_ bytes: ArraySlice<UInt8>) -> [(
        field: Int, wireType: Int, content: ArraySlice<UInt8>
    )]? {
        var fields: [(Int, Int, ArraySlice<UInt8>)] = []
        var index = bytes.startIndex
        func varint() -> Int? {
            var value = 0
            var shift = 0
            while index < bytes.endIndex {
                let byte = bytes[index]
                index += 1
                value |= Int(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        while index < bytes.endIndex {
            guard let tag = varint() else { return nil }
            switch tag & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: index += 8
            case 5: index += 4
            case 2:
                guard let length = varint(), index + length <= bytes.endIndex else { return nil }
                fields.append((tag >> 3, 2, bytes[index..<(index + length)]))
                index += length
                continue
            default: return nil
            }
            guard index <= bytes.endIndex else { return nil }
            fields.append((tag >> 3, tag & 7, []))
        }
        return fields
    }

    @Test func finishedSpansAreFramedIntoOneExportRequest() throws {
        // Two spans as the batcher keeps them, one long enough for two-byte lengths.
        var spans = ProtobufWriter()
        for name in ["short", String(repeating: "n", count: 300)] {
            var span = ProtobufWriter()
            OTLPProtobuf.attribute("natswire.request_id", .string("r1"), into: &span)
            OTLPProtobuf.finishSpan(
                into: &span, context: NATSTraceContext(traceIDHigh: 1, traceIDLow: 2, spanID: 3),
                parentSpanID: 4,
                name: name, kind: .server, start: 10, end: 20, status: .error, statusMessage: "failed")
            spans.header(2, length: span.bytes.count)
            spans.append(span.bytes)
        }
        let framing = OTLPProtobuf.Framing(resource: [("service.name", .string("test"))], scope: "natswire")
        var body = ProtobufWriter()
        framing.write(spans: spans.bytes, into: &body)

        let request = try #require(fields(body.bytes[...]))
        #expect(request.count == 1 && request[0].field == 1)  // one ResourceSpans
        let resourceSpans = try #require(fields(request[0].content))
        #expect(resourceSpans.map(\.field) == [1, 2])  // resource, scope spans
        #expect(Array(resourceSpans[0].content) == framing.resource)
        let scopeSpans = try #require(fields(resourceSpans[1].content))
        #expect(scopeSpans.map(\.field) == [1, 2, 2])  // the scope, then both spans
        let names = try scopeSpans.dropFirst().map { span in
            let spanFields = try #require(fields(span.content))
            #expect(spanFields.filter { $0.field == 9 }.count == 1)  // the attribute
            #expect(spanFields.contains { $0.field == 15 })  // the status
            return String(decoding: try #require(spanFields.first { $0.field == 5 }).content, as: UTF8.self)
        }
        #expect(names == ["short", String(repeating: "n", count: 300)])
    }
}
