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

/// Reads settings from the process environment and an optional `.env` file (the
/// environment wins), collecting every problem so a misconfigured service says all of them
/// at once instead of one per restart.
public final class ConfigReader {
    public let values: [String: String]
    public private(set) var problems: [String] = []

    /// `dotEnv` is read when it exists; lines are `NAME=value`, `#` comments, optional quotes.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, dotEnv: String? = ".env")
    {
        var merged: [String: String] = [:]
        if let dotEnv, let text = try? String(contentsOfFile: dotEnv, encoding: .utf8) {
            merged = Self.parseDotEnv(text)
        }
        for (key, value) in environment { merged[key] = value }
        values = merged
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
        if let value = values[name], !value.isEmpty { return value }
        if let defaultValue { return defaultValue }
        if required { problems.append("\(name) is required") }
        return nil
    }

    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let text = values[name], !text.isEmpty else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            problems.append(
                "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(text.debugDescription)"
            )
            return defaultValue
        }
        return value
    }

    public func bool(_ name: String, default defaultValue: Bool) -> Bool {
        guard let text = values[name]?.lowercased(), !text.isEmpty else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problems.append("\(name) must be true or false, got \(text.debugDescription)")
            return defaultValue
        }
    }

    public func oneOf(_ name: String, _ choices: [String], default defaultValue: String) -> String {
        guard let text = values[name], !text.isEmpty else { return defaultValue }
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
    var lines = [
        "\(service): \(summary)", "", "Configuration (environment variables, or a .env file beside it):",
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
