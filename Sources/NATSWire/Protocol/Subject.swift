/// Subject rules of ADR-6: dot-separated tokens, none empty, no whitespace or control
/// characters; `*` matches one token and `>` one or more, only as the last token.
public enum Subject {
    /// Whether `subject` may be published to (no wildcards).
    public static func isValidPublish(_ subject: String) -> Bool {
        check(subject.utf8, wildcards: false)
    }

    /// Whether `subject` may be subscribed to (wildcards allowed).
    public static func isValidSubscribe(_ subject: String) -> Bool {
        check(subject.utf8, wildcards: true)
    }

    /// Whether `name` is a valid queue group name (one token-like word, no whitespace).
    public static func isValidQueueGroup(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > .space && $0 != 127 }
    }

    static func validatePublish(_ subject: String) throws(NATSError) {
        guard isValidPublish(subject) else {
            throw NATSError(.invalidSubject, "\(subject.debugDescription) is not a valid publish subject")
        }
    }

    static func validateSubscribe(_ subject: String) throws(NATSError) {
        guard isValidSubscribe(subject) else {
            throw NATSError(.invalidSubject, "\(subject.debugDescription) is not a valid subscribe subject")
        }
    }

    /// Walks the tokens once. A token that is exactly `*` or `>` is a wildcard; `*` or `>`
    /// inside a longer token is a literal character, as nats-server treats it.
    private static func check(_ bytes: String.UTF8View, wildcards: Bool) -> Bool {
        var tokenLength = 0
        var tokenFirst: UInt8 = 0
        var previousWasFullWildcard = false

        func endToken() -> Bool {
            guard tokenLength > 0, !previousWasFullWildcard else { return false }
            let isWildcard = tokenLength == 1 && (tokenFirst == .star || tokenFirst == .greaterThan)
            if isWildcard && !wildcards { return false }
            previousWasFullWildcard = isWildcard && tokenFirst == .greaterThan
            tokenLength = 0
            return true
        }

        for byte in bytes {
            if byte == .dot {
                guard endToken() else { return false }
                continue
            }
            if byte <= .space || byte == 127 { return false }
            if tokenLength == 0 { tokenFirst = byte }
            tokenLength += 1
        }
        return endToken()
    }
}
