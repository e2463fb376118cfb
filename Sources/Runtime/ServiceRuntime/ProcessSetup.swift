import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The start of every service executable: `--help`, settings (every problem at once, exit
/// 2), logging.
public enum ProcessSetup {
    /// Prints the help text and exits when `--help` or `-h` is given.
    public static func answerHelp(service: String, summary: String, variables: [ConfigVariable]) {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.contains("--help") || arguments.contains("-h") else { return }
        print(helpText(service: service, summary: summary, variables: variables))
        exit(0)
    }

    /// Runs `load`; on a configuration error prints it and exits with status 2.
    public static func settings<T>(service: String, _ load: (ConfigReader) throws -> T) -> T {
        let reader = ConfigReader()
        do {
            let value = try load(reader)
            try reader.validate()
            return value
        } catch {
            StandardError.write("\(service): \(error)\n")
            exit(2)
        }
    }

    /// Bootstraps swift-log from `LOG_FORMAT`/`LOG_LEVEL` values and returns a logger.
    public static func logger(label: String, json: Bool, level: String) -> Logger {
        bootstrapLogging(json: json, level: Logger.Level(rawValue: level) ?? .info)
        return Logger(label: label)
    }

    /// The shared `LOG_FORMAT` and `LOG_LEVEL` variables.
    public static let loggingVariables = [
        ConfigVariable("LOG_FORMAT", help: "text or json", default: "text"),
        ConfigVariable(
            "LOG_LEVEL", help: "trace, debug, info, notice, warning, error, critical", default: "info"),
    ]

    /// Reads `LOG_FORMAT` and `LOG_LEVEL`.
    public static func logging(_ reader: ConfigReader) -> (json: Bool, level: String) {
        let json = reader.oneOf("LOG_FORMAT", ["text", "json"], default: "text") == "json"
        let level = reader.oneOf(
            "LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"], default: "info"
        )
        return (json, level)
    }
}
