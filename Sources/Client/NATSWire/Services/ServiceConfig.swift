/// What a service is called and how its endpoints listen (ADR-32, micro v1).
public struct ServiceConfig: Sendable {
    /// The kind of service, shared by all its instances: `^[A-Za-z0-9_-]+$`.
    public var name: String
    /// SemVer, e.g. `1.2.0`.
    public var version: String
    /// A description for people (`$SRV.INFO`).
    public var description: String
    /// Free key-value pairs shown by discovery.
    public var metadata: [String: String]
    /// Queue group of the endpoints, so instances share requests; `nil` for none.
    public var queueGroup: String?
    /// Requests one endpoint handles at once; more wait in the subscription's queue.
    public var maxConcurrentRequests: Int
    /// Where request handlers run; `nil` for the global concurrent executor. A service whose
    /// handlers wait on one I/O thread (a database poller) can run them there: a request
    /// then costs no wake-up of a second thread on the way in and on the way back.
    public var executor: (any TaskExecutor)?

    /// A service `name` (`[A-Za-z0-9_-]+`) and SemVer `version`; everything else optional.
    public init(
        name: String, version: String, description: String = "", metadata: [String: String] = [:],
        queueGroup: String? = "q", maxConcurrentRequests: Int = 256, executor: (any TaskExecutor)? = nil
    ) {
        self.name = name
        self.version = version
        self.description = description
        self.metadata = metadata
        self.queueGroup = queueGroup
        self.maxConcurrentRequests = maxConcurrentRequests
        self.executor = executor
    }

    /// Checks name, version and queue group; throws `invalidArgument` naming the problem.
    func validate() throws(NATSError) {
        guard Self.isValidName(name) else {
            throw NATSError(
                .invalidArgument, "service name \(name.debugDescription) must match ^[A-Za-z0-9_-]+$")
        }
        guard SemanticVersion.isValid(version) else {
            throw NATSError(.invalidArgument, "service version \(version.debugDescription) is not SemVer")
        }
        if let queueGroup, !Subject.isValidQueueGroup(queueGroup) {
            throw NATSError(.invalidArgument, "queue group \(queueGroup.debugDescription) is not valid")
        }
        guard maxConcurrentRequests > 0 else {
            throw NATSError(.invalidArgument, "maxConcurrentRequests must be positive")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}

/// SemVer 2.0.0 syntax, as the services schemas check it.
enum SemanticVersion {
    static func isValid(_ text: String) -> Bool {
        var core = Substring(text)
        var build: Substring?
        if let plus = core.firstIndex(of: "+") {
            build = core[core.index(after: plus)...]
            core = core[..<plus]
        }
        var prerelease: Substring?
        if let dash = core.firstIndex(of: "-") {
            prerelease = core[core.index(after: dash)...]
            core = core[..<dash]
        }
        let numbers = core.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 3, numbers.allSatisfy(isNumericIdentifier) else { return false }
        if let prerelease {
            let parts = prerelease.split(separator: ".", omittingEmptySubsequences: false)
            guard !parts.isEmpty,
                parts.allSatisfy({ isNumericIdentifier($0) || isAlphanumericIdentifier($0) })
            else { return false }
        }
        if let build {
            let parts = build.split(separator: ".", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isIdentifierCharacter) })
            else {
                return false
            }
        }
        return true
    }

    private static func isNumericIdentifier(_ part: Substring) -> Bool {
        guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        return part == "0" || part.first != "0"
    }

    private static func isAlphanumericIdentifier(_ part: Substring) -> Bool {
        !part.isEmpty && part.allSatisfy(isIdentifierCharacter)
            && part.contains { !($0.isASCII && $0.isNumber) }
    }

    private static func isIdentifierCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-")
    }
}
