import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The start of every process: `--help`, settings (every problem at once, exit 2), logging.
public enum ProcessSetup {
    /// The settings of a process: `--help` (or `-h`) prints every variable and exits 0;
    /// otherwise `load` reads them, and any problem (a bad value, a missing one, an unknown
    /// option) is printed, all at once, with exit status 2.
    public static func settings<T>(
        service: String, summary: String, variables: [ConfigVariable], _ load: (SettingsReader) throws -> T
    ) -> T {
        // Every process takes OpenTelemetry's tracing variables (off unless an endpoint is set).
        let variables = variables + TraceSettings.variables
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.contains("--help") || arguments.contains("-h") {
            print(helpText(service: service, summary: summary, variables: variables))
            exit(0)
        }
        let reader = SettingsReader(known: variables)
        do {
            let value = try load(reader)
            let tracing = TraceSettings(reader)
            try reader.validate()
            pendingTracing.withLock { $0 = (service, tracing) }
            return value
        } catch {
            StandardError.write("\(service): \(error)\n")
            exit(2)
        }
    }

    /// Bootstraps swift-log from `LOG_FORMAT`/`LOG_LEVEL` values, swift-metrics with the
    /// process's Prometheus registry (before anything makes a metric: one made earlier would
    /// record nowhere) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, tracing
    /// (``ProcessTracing``); returns a logger.
    public static func logger(label: String, json: Bool, level: String) -> Logger {
        bootstrapLogging(json: json, level: Logger.Level(rawValue: level) ?? .info)
        _ = ProcessMetrics.shared
        let logger = Logger(label: label)
        if let (service, tracing) = pendingTracing.withLock({ $0 }) {
            ProcessTracing.start(tracing, service: service, logger: logger)
        }
        return logger
    }

    /// The tracing settings read with the process's settings, started with its logger.
    private static let pendingTracing = Mutex<(String, TraceSettings)?>(nil)

    /// The shared `LOG_FORMAT` and `LOG_LEVEL` variables.
    public static let loggingVariables = [
        ConfigVariable("LOG_FORMAT", help: "text or json", default: "text"),
        ConfigVariable(
            "LOG_LEVEL", help: "trace, debug, info, notice, warning, error, critical", default: "info"),
    ]

    /// Reads `LOG_FORMAT` and `LOG_LEVEL`.
    public static func logging(_ reader: SettingsReader) -> (json: Bool, level: String) {
        let json = reader.oneOf("LOG_FORMAT", ["text", "json"], default: "text") == "json"
        let level = reader.oneOf(
            "LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info"
        )
        return (json, level)
    }
}
