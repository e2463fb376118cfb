import Foundation

/// An OTLP/HTTP trace collector for tests (`scripts/lib/otlp-receiver.py`): it decodes what
/// the processes export with OpenTelemetry's own protobuf classes (an independent reader of
/// our encoder) and records one JSON object per span.
public final class TraceReceiver: Sendable {
    /// One span as the collector decoded it.
    public struct Span: Sendable {
        public let service: String
        public let name: String
        /// OTLP's kind: 2 server, 3 client.
        public let kind: Int
        public let traceID: String
        public let spanID: String
        public let parentSpanID: String
        /// OTLP's status: 0 unset, 1 ok, 2 error.
        public let status: Int
        public let attributes: [String: String]
    }

    /// `http://127.0.0.1:PORT`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    public let endpoint: String
    private let output: URL
    private let process: ChildProcess

    public init() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "spans-\(UUID().uuidString.prefix(8)).jsonl")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "otlp-receiver-\(UUID().uuidString.prefix(8)).log")
        let python = projectRoot.appendingPathComponent(".state/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw HarnessError("\(python) is missing: run scripts/install-deps.sh --tests")
        }
        process = try ChildProcess(
            python, [projectRoot.appendingPathComponent("scripts/lib/otlp-receiver.py").path, output.path],
            output: log)
        let port = process.waitForOutput(in: log, timeout: .seconds(30)) { text -> Int? in
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") })
            else {
                return nil
            }
            return Int(line.dropFirst("listening on ".count))
        }
        guard let port else {
            process.kill()
            throw HarnessError(
                "the OTLP receiver did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        endpoint = "http://127.0.0.1:\(port)"
    }

    /// Every span received so far.
    public var spans: [Span] {
        guard let text = try? String(contentsOf: output, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else {
                return nil
            }
            let attributes = (object["attributes"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
            return Span(
                service: object["service"] as? String ?? "", name: object["name"] as? String ?? "",
                kind: object["kind"] as? Int ?? 0, traceID: object["trace_id"] as? String ?? "",
                spanID: object["span_id"] as? String ?? "",
                parentSpanID: object["parent_span_id"] as? String ?? "",
                status: object["status"] as? Int ?? 0, attributes: attributes)
        }
    }

    public func stop() {
        _ = process.stop(grace: .seconds(5))
        try? FileManager.default.removeItem(at: output)
    }
}
