/// Subject rules of ADR-6: dot-separated tokens, none empty, no whitespace or control
/// characters; `*` matches one token and `>` one or more, only as the last token.
public enum Subject {
    /// Whether `subject` may be published to (no wildcards).
    public static func isValidPublish(_ subject: String) -> Bool {
        withUTF8Bytes(of: subject) { check($0, wildcards: false) }
    }

    /// Whether `subject` may be subscribed to (wildcards allowed).
    public static func isValidSubscribe(_ subject: String) -> Bool {
        withUTF8Bytes(of: subject) { check($0, wildcards: true) }
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

    /// Whether the UTF-8 bytes of a subject may be published to.
    static func isValidPublish(bytes: UnsafeRawBufferPointer) -> Bool { check(bytes, wildcards: false) }

    /// Walks the bytes once. A token that is exactly `*` or `>` is a wildcard; `*` or `>`
    /// inside a longer token is a literal character, as nats-server treats it.
    static func check(_ bytes: UnsafeRawBufferPointer, wildcards: Bool) -> Bool {
        let count = bytes.count
        guard count > 0 else { return false }
        var tokenStart = 0
        var afterFullWildcard = false
        var index = 0
        while index <= count {
            let atEnd = index == count
            let byte = atEnd ? UInt8.dot : bytes[index]
            if byte == .dot {
                let length = index - tokenStart
                if length == 0 || afterFullWildcard { return false }
                if length == 1 {
                    let only = bytes[tokenStart]
                    if only == .star || only == .greaterThan {
                        if !wildcards { return false }
                        afterFullWildcard = only == .greaterThan
                    }
                }
                tokenStart = index + 1
            } else if byte <= .space || byte == 127 {
                return false
            }
            index += 1
        }
        return true
    }
}

/// Runs `body` on the UTF-8 bytes of `string` without copying when they are contiguous.
@inline(__always)
func withUTF8Bytes<R>(of string: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let result = string.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    var copy = string
    return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}
