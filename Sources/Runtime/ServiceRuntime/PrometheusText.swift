/// Metric families in the Prometheus text format (version 0.0.4), read from what a registry
/// emitted so that several processes' metrics can be served as one document: labels added
/// to every sample (which process it came from), families of the same name merged (the
/// format allows each family once), help text filled in where the emitter had none.
public struct PrometheusText: Sendable, Equatable {
    /// One metric family: its `# HELP`, `# TYPE` and sample lines, in order.
    public struct Family: Sendable, Equatable {
        public var name: String
        public var help: String?
        public var type: String?
        public var samples: [String]
    }

    public private(set) var families: [Family] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// Reads `text`. A sample belongs to the family of the `# TYPE` line before it (a
    /// histogram's `_bucket`, `_sum` and `_count` lines to the histogram), or to a family of
    /// its own name when no such line came first. Other comments and blank lines are skipped.
    public init(parsing text: some StringProtocol) {
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                guard words.count >= 3, words[0] == "#" else { continue }
                let name = String(words[2])
                let rest = words.count > 3 ? String(words[3]) : ""
                switch words[1] {
                case "HELP":
                    update(name) { if $0.help == nil { $0.help = rest } }
                case "TYPE":
                    update(name) { if $0.type == nil { $0.type = rest } }
                    current = name
                default: continue
                }
                continue
            }
            let sampleName = Self.metricName(of: line)
            let family =
                current.flatMap { Self.belongs(sampleName, to: $0) ? $0 : nil } ?? String(sampleName)
            update(family) { $0.samples.append(String(line)) }
        }
    }

    /// Adds `labels` in front of every sample's own labels. Values are escaped as the
    /// format requires.
    public func labelled(_ labels: [(name: String, value: String)]) -> PrometheusText {
        guard !labels.isEmpty else { return self }
        let added = labels.map { "\($0.name)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
        var copy = self
        for familyIndex in copy.families.indices {
            copy.families[familyIndex].samples = copy.families[familyIndex].samples.map { sample in
                let name = Self.metricName(of: sample)
                let rest = sample.dropFirst(name.count)
                if rest.hasPrefix("{}") { return "\(name){\(added)}\(rest.dropFirst(2))" }
                if rest.hasPrefix("{") { return "\(name){\(added),\(rest.dropFirst())" }
                return "\(name){\(added)}\(rest)"
            }
        }
        return copy
    }

    /// Appends `other`'s families: samples of a family both have go under the one family.
    public mutating func merge(_ other: PrometheusText) {
        for family in other.families {
            update(family.name) { mine in
                if mine.help == nil { mine.help = family.help }
                if mine.type == nil { mine.type = family.type }
                mine.samples += family.samples
            }
        }
    }

    /// The document, with `help(name)` for a family that has no help text of its own.
    public func rendered(help: (String) -> String? = { _ in nil }) -> String {
        var out = ""
        for family in families {
            if let text = family.help ?? help(family.name), !text.isEmpty {
                out += "# HELP \(family.name) \(text)\n"
            }
            if let type = family.type { out += "# TYPE \(family.name) \(type)\n" }
            for sample in family.samples { out += sample + "\n" }
        }
        return out
    }

    private mutating func update(_ name: String, _ change: (inout Family) -> Void) {
        if let position = index[name] {
            change(&families[position])
        } else {
            var family = Family(name: name, help: nil, type: nil, samples: [])
            change(&family)
            index[name] = families.count
            families.append(family)
        }
    }

    private static func metricName(of sample: some StringProtocol) -> Substring {
        let text = Substring(sample)
        let end = text.firstIndex(where: { $0 == "{" || $0 == " " }) ?? text.endIndex
        return text[..<end]
    }

    private static let familySuffixes = ["_bucket", "_sum", "_count", "_created"]

    private static func belongs(_ sample: Substring, to family: String) -> Bool {
        guard sample.hasPrefix(family) else { return false }
        let suffix = sample.dropFirst(family.count)
        return suffix.isEmpty || familySuffixes.contains(where: { suffix == $0 })
    }

    /// A label value as the format writes it: backslash, double quote and newline escaped.
    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
