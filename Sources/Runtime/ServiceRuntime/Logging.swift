import Contracts
import Logging
import ServiceContextModule

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Log lines to stderr, one per event: plain text as swift-log's `StreamLogHandler` writes
/// it (`time level label: key=value [source] message`), or one JSON object per line for log
/// shippers. Metadata is formatted when a line is written: `StreamLogHandler` formats all of
/// it whenever one key is set, and Hummingbird sets a request id on a logger for every
/// request (1–2 % of the gateway's CPU went there).
public struct LineLogHandler: LogHandler {
    public enum Format: Sendable {
        case text
        case json
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format

    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        // The line of a traced request names its trace and span, for finding one in the other.
        if ProcessTracing.isEnabled, let trace = CurrentTrace.context {
            merged["trace_id"] = "\(trace.traceIDHex)"
            merged["span_id"] = "\(trace.spanIDHex)"
        }
        let fields = merged.sorted { $0.key < $1.key }
        switch format {
        case .text:
            let pairs = fields.map { " \($0.key)=\($0.value)" }.joined()
            let line =
                "\(Self.localTimestamp()) \(event.level) \(label):\(pairs) [\(event.source)] \(event.message)\n"
            StandardError.write(line)
        case .json:
            var members: [(key: String, value: JSONValue)] = [
                ("level", .string(event.level.rawValue)), ("logger", .string(label)),
                ("msg", .string(event.message.description)), ("ts", .string(Date().formatted(.iso8601))),
            ]
            for (key, value) in fields {
                members.removeAll { $0.key == key }
                members.append((key, .string(value.description)))
            }
            members.sort { $0.key < $1.key }
            var line = JSONValue.object(members).json
            line.append(UInt8(ascii: "\n"))
            StandardError.write(line)
        }
    }

    private static func localTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Sets up swift-log once: plain text to stderr, or JSON lines with `json`.
public func bootstrapLogging(json: Bool, level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = LineLogHandler(label: label, format: json ? .json : .text)
        handler.logLevel = level
        return handler
    }
}

/// Writes to the process's standard error, unbuffered, as whole lines.
public enum StandardError {
    public static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    public static func write(_ text: String) { write(Array(text.utf8)) }
}
