/// The header block of a NATS message (ADR-4): an optional inline status and an ordered
/// list of `Name: value` fields.
///
/// Names keep their case as written; a name may appear more than once, one value per line.
/// Look-ups match the exact name first and fall back to a case-insensitive match, so
/// `headers["Nats-Msg-Id"]` finds `nats-msg-id` written by another client.
public struct NATSHeaders: Sendable, Equatable, Sequence {
    /// A header field as it stands on the wire.
    public struct Field: Sendable, Equatable {
        /// The field's name, as written.
        public var name: String
        /// The field's value.
        public var value: String
        /// A field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The inline status code of `NATS/1.0 503`, if any (`503` no responders, `408` request
    /// timeout, `404` no messages, `100` idle heartbeat or flow control).
    public var status: Int?
    /// The description after the status code, if any.
    public var statusDescription: String?
    /// All fields in wire order.
    public private(set) var fields: [Field]

    /// Headers with no fields, optionally with an inline status.
    public init(status: Int? = nil, statusDescription: String? = nil) {
        self.status = status
        self.statusDescription = statusDescription
        self.fields = []
    }

    /// Headers with these fields, in order.
    public init(_ pairs: KeyValuePairs<String, String>) {
        self.init()
        for (name, value) in pairs { append(value, for: name) }
    }

    /// No field and no status.
    public var isEmpty: Bool { fields.isEmpty && status == nil }

    /// Adds a value for `name`, keeping any values already there.
    public mutating func append(_ value: String, for name: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Replaces every value of `name` (matched case-insensitively) with one value.
    public mutating func set(_ value: String, for name: String) {
        remove(name)
        append(value, for: name)
    }

    /// Removes every value of `name` (matched case-insensitively).
    public mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// The first value of `name`, or `nil`.
    public subscript(name: String) -> String? {
        if let exact = fields.first(where: { $0.name == name }) { return exact.value }
        return fields.first(where: { Self.sameName($0.name, name) })?.value
    }

    /// Every value of `name`, in wire order.
    public func values(for name: String) -> [String] {
        let exact = fields.filter { $0.name == name }
        if !exact.isEmpty { return exact.map(\.value) }
        return fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// The fields, in wire order.
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.lowercased() == b.lowercased()
    }
}

// MARK: - Wire format

extension NATSHeaders {
    static let preamble: [UInt8] = Array("NATS/1.0".utf8)

    /// Parses a complete header block, `NATS/1.0 ...\r\n` through the final blank line.
    static func parse(_ block: UnsafeRawBufferPointer) throws(ProtocolViolation) -> NATSHeaders {
        var lines = LineCursor(block)
        guard let first = lines.next() else { throw ProtocolViolation("empty header block") }
        guard first.count >= preamble.count, first.starts(with: preamble) else {
            throw ProtocolViolation("header block does not start with NATS/1.0")
        }
        var headers = NATSHeaders()
        let rest = first.dropFirst(preamble.count)
        if let firstNonSpace = rest.firstIndex(where: { $0 != .space && $0 != .tab }) {
            guard rest.first == .space || rest.first == .tab else {
                throw ProtocolViolation("malformed header status line")
            }
            let statusPart = rest[firstNonSpace...]
            let codeEnd = statusPart.firstIndex(where: { $0 == .space || $0 == .tab }) ?? statusPart.endIndex
            let code = statusPart[firstNonSpace..<codeEnd]
            guard code.count == 3, code.allSatisfy({ $0 >= .zero && $0 <= .nine }) else {
                throw ProtocolViolation("header status is not a 3-digit code")
            }
            headers.status = code.reduce(0) { $0 * 10 + Int($1 - .zero) }
            let description = statusPart[codeEnd...].drop(while: { $0 == .space || $0 == .tab })
            if !description.isEmpty {
                headers.statusDescription = String(decoding: description, as: UTF8.self)
            }
        }
        var sawTerminator = false
        while let line = lines.next() {
            if line.isEmpty {
                sawTerminator = true
                break
            }
            guard let colon = line.firstIndex(of: .colon), colon > line.startIndex else {
                throw ProtocolViolation("header line without a name")
            }
            let name = line[line.startIndex..<colon]
            let value = line[(colon + 1)...].drop(while: { $0 == .space || $0 == .tab })
            headers.fields.append(
                Field(
                    name: String(decoding: name, as: UTF8.self),
                    value: String(decoding: value, as: UTF8.self)))
        }
        guard sawTerminator, lines.isAtEnd else {
            throw ProtocolViolation("header block does not end with an empty line")
        }
        return headers
    }

    /// Appends the wire form of this block; throws if a name or value cannot be sent.
    func encode(into out: inout [UInt8]) throws(NATSError) {
        out.append(contentsOf: Self.preamble)
        if let status {
            guard (100...999).contains(status) else {
                throw NATSError(.invalidHeader, "status \(status) is not a 3-digit code")
            }
            out.append(.space)
            out.append(contentsOf: String(status).utf8)
            if let statusDescription {
                try Self.checkValue(statusDescription)
                out.append(.space)
                out.append(contentsOf: statusDescription.utf8)
            }
        }
        out.append(contentsOf: CRLF.bytes)
        for field in fields {
            try Self.checkName(field.name)
            try Self.checkValue(field.value)
            out.append(contentsOf: field.name.utf8)
            out.append(.colon)
            out.append(.space)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: CRLF.bytes)
        }
        out.append(contentsOf: CRLF.bytes)
    }

    private static func checkName(_ name: String) throws(NATSError) {
        guard !name.isEmpty,
            name.utf8.allSatisfy({ $0 > .space && $0 < 127 && $0 != .colon })
        else {
            throw NATSError(
                .invalidHeader,
                "header name \(name.debugDescription) is empty or has a space, colon or control character")
        }
    }

    private static func checkValue(_ value: String) throws(NATSError) {
        guard !value.utf8.contains(where: { $0 == .cr || $0 == .lf }) else {
            throw NATSError(.invalidHeader, "header value \(value.debugDescription) has a line break")
        }
    }
}

/// Walks CRLF-terminated lines of a buffer; each line comes without its terminator.
struct LineCursor {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { position == bytes.count }

    mutating func next() -> Slice<UnsafeRawBufferPointer>? {
        guard position < bytes.count else { return nil }
        var i = position
        while i + 1 < bytes.count {
            if bytes[i] == .cr && bytes[i + 1] == .lf {
                let line = bytes[position..<i]
                position = i + 2
                return line
            }
            i += 1
        }
        return nil
    }
}
