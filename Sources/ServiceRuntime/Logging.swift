import Foundation
import Logging

/// Log output as one JSON object per line, for log shippers.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [
            "ts": ISO8601DateFormatter().string(from: Date()), "level": event.level.rawValue, "logger": label,
            "msg": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = value.description
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return
        }
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(data)
    }
}

/// Sets up swift-log once: plain text to stderr, or JSON lines with `json`.
public func bootstrapLogging(json: Bool, level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler =
            json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
