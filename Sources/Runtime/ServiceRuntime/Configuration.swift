import Configuration

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A setting a service reads from its environment, for `--help` and validation.
public struct ConfigVariable: Sendable {
    public var name: String
    public var help: String
    public var defaultValue: String?
    public var isSecret: Bool

    public init(_ name: String, help: String, default defaultValue: String? = nil, secret: Bool = false) {
        self.name = name
        self.help = help
        self.defaultValue = defaultValue
        self.isSecret = secret
    }
}

/// Reads a process's settings through apple/swift-configuration: the command line
/// (`--http-port 8080` or `--http-port=8080`), then the environment (`HTTP_PORT`), then an
/// optional `.env` file; the first that has a value wins. Typed reads check each value against
/// its rule and collect every problem, unknown command-line options included, so a
/// misconfigured process says all of them at once instead of one per restart.
public final class SettingsReader {
    private let config: ConfigReader
    public private(set) var problems: [String] = []

    /// `dotEnv` is read when it exists; lines are `NAME=value`, `#` comments, optional quotes
    /// and `export`. `known` are the variables the process reads: any other `--option` on the
    /// command line is a problem.
    public init(
        arguments: [String] = CommandLine.arguments,
        environment: [String: String] = ProcessInfo.processInfo.environment, dotEnv: String? = ".env",
        known: [ConfigVariable] = []
    ) {
        var fileValues: [String: String] = [:]
        if let dotEnv, let text = try? String(contentsOfFile: dotEnv, encoding: .utf8) {
            fileValues = Self.parseDotEnv(text)
        }
        config = ConfigReader(providers: [
            CommandLineArgumentsProvider(arguments: arguments),
            EnvironmentVariablesProvider(environmentVariables: environment),
            EnvironmentVariablesProvider(environmentVariables: fileValues),
        ])
        if !known.isEmpty {
            let options = Set(known.map { Self.option($0.name) } + ["--help", "-h"])
            for argument in arguments.dropFirst() where argument.hasPrefix("-") {
                let option = String(argument.prefix { $0 != "=" })
                if !options.contains(option) { problems.append("unknown option \(option)") }
            }
        }
    }

    /// The configuration key of a variable: `HTTP_PORT` is `http.port`, which the environment
    /// knows as `HTTP_PORT` and the command line as `--http-port`.
    static func key(_ name: String) -> ConfigKey {
        ConfigKey(name.lowercased().split(separator: "_").map(String.init))
    }

    /// `--http-port` for `HTTP_PORT`.
    public static func option(_ name: String) -> String {
        "--" + name.lowercased().replacing("_", with: "-")
    }

    /// The raw text of a variable; `nil` when absent or empty.
    public func value(_ name: String) -> String? {
        guard let text = config.string(forKey: Self.key(name)), !text.isEmpty else { return nil }
        return text
    }

    static func parseDotEnv(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = String(rawLine.trimmedSpaces)
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals].trimmedSpaces)
            var value = String(line[line.index(after: equals)...].trimmedSpaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            out[key] = value
        }
        return out
    }

    /// A string; `nil` (and a problem, when `required`) if missing.
    public func string(_ name: String, default defaultValue: String? = nil, required: Bool = false) -> String?
    {
        if let value = value(name) { return value }
        if let defaultValue { return defaultValue }
        if required { problems.append("\(name) is required") }
        return nil
    }

    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            problems.append(
                "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(text.debugDescription)"
            )
            return defaultValue
        }
        return value
    }

    public func bool(_ name: String, default defaultValue: Bool) -> Bool {
        guard let text = value(name)?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problems.append("\(name) must be true or false, got \(text.debugDescription)")
            return defaultValue
        }
    }

    public func oneOf(_ name: String, _ choices: [String], default defaultValue: String) -> String {
        guard let text = value(name) else { return defaultValue }
        guard choices.contains(text) else {
            problems.append(
                "\(name) must be one of \(choices.joined(separator: ", ")), got \(text.debugDescription)")
            return defaultValue
        }
        return text
    }

    /// Records a problem found while checking values against each other.
    public func problem(_ text: String) { problems.append(text) }

    /// Throws one error that lists every problem, if there were any.
    public func validate() throws {
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String {
        "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// The `--help` text of a service: what it is and every variable it reads.
public func helpText(service: String, summary: String, variables: [ConfigVariable]) -> String {
    let example = variables.first?.name ?? "NATS_URL"
    var lines = [
        "\(service): \(summary)", "",
        "Configuration: each variable from the command line (\(SettingsReader.option(example)) VALUE for",
        "\(example)), the environment, or a .env file beside the process, in that order:",
    ]
    let width = (variables.map(\.name.count).max() ?? 0) + 2
    for variable in variables {
        let padding = String(repeating: " ", count: max(0, width - variable.name.count))
        var line = "  " + variable.name + padding + variable.help
        if let value = variable.defaultValue { line += " (default: \(variable.isSecret ? "<set>" : value))" }
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}

extension StringProtocol {
    /// Without the spaces and tabs at either end (a line has no newlines left to trim).
    var trimmedSpaces: SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
        else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
