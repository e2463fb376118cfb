/// A parsed JSON value, read straight from bytes with no Foundation bridging.
///
/// Numbers keep their text: an integer is read from it exactly, and a large or long number is
/// not rounded through a decimal type on the way (Foundation on Linux parses those into an
/// `NSDecimalNumber`). Object members keep their order; a duplicate key is an error.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number as it was written (valid JSON number grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Parses one JSON document (surrounding whitespace allowed).
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try parseDocument(buffer) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONParseError) in
            try parseDocument(buffer)
        }
    }

    private static func parseDocument(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError)
        -> JSONValue
    {
        var reader = JSONReader(buffer)
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw reader.error("unexpected data after the JSON value") }
        return value
    }

    /// The member `key` of an object; `nil` if absent or not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var isNull: Bool { if case .null = self { true } else { false } }

    public var string: String? { if case .string(let text) = self { text } else { nil } }

    /// The number as an integer when it has an integral value (`3`, and also `3.0` or `3e0`:
    /// JSON Schema counts those as integers); `nil` otherwise or beyond ±2^53.
    public var integer: Int? {
        guard case .number(let text) = self else { return nil }
        if let exact = Int(text) { return exact }
        guard let number = Double(text), number.rounded() == number, abs(number) <= 9_007_199_254_740_992
        else { return nil }
        return Int(number)
    }

    /// The number as the nearest Double (parsed from its text, so exactly rounded).
    public var double: Double? { if case .number(let text) = self { Double(text) } else { nil } }

    public var bool: Bool? { if case .bool(let flag) = self { flag } else { nil } }

    /// The JSON text of this value (object members in their order, strings escaped).
    /// The same value with every object's members in key order: two documents that differ
    /// only in member order (as two serialisations of one dictionary may) are equal.
    public var canonical: JSONValue {
        switch self {
        case .object(let members):
            return .object(members.map { ($0.key, $0.value.canonical) }.sorted { $0.key < $1.key })
        case .array(let items): return .array(items.map(\.canonical))
        default: return self
        }
    }

    public var json: [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: JSONOutput.null)
        case .bool(let flag): out.append(contentsOf: flag ? JSONOutput.true : JSONOutput.false)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): JSONOutput.string(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONOutput.string(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// Why a document is not JSON, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// Members of a JSON object found without decoding their values: each key and the byte
/// range of its value. The NestJS envelope uses it to hand `data` on as it came.
public enum JSONObjectScanner {
    public typealias Members = [(key: String, value: Range<Int>)]

    public static func members(_ bytes: [UInt8]) throws(JSONParseError) -> Members {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            var reader = JSONReader(buffer)
            reader.skipWhitespace()
            let members = try reader.readMembers()
            reader.skipWhitespace()
            guard reader.isAtEnd else { throw reader.error("unexpected data after the JSON value") }
            return members
        }
    }

    /// The objects of a JSON array of objects, each its byte range and its members, found
    /// without decoding values: a list can be filtered, sorted and cut by a few fields and
    /// its rows passed on as the bytes that came.
    public static func objects(inArray bytes: [UInt8]) throws(JSONParseError) -> [(
        range: Range<Int>, members: Members
    )] {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            var reader = JSONReader(buffer)
            reader.skipWhitespace()
            guard reader.take(UInt8(ascii: "[")) else { throw reader.error("expected an array") }
            var objects: [(range: Range<Int>, members: Members)] = []
            reader.skipWhitespace()
            if !reader.take(UInt8(ascii: "]")) {
                repeat {
                    reader.skipWhitespace()
                    let start = reader.offset
                    let members = try reader.readMembers()
                    objects.append((start..<reader.offset, members))
                    reader.skipWhitespace()
                } while reader.take(UInt8(ascii: ","))
                guard reader.take(UInt8(ascii: "]")) else { throw reader.error("expected ',' or ']'") }
            }
            reader.skipWhitespace()
            guard reader.isAtEnd else { throw reader.error("unexpected data after the JSON value") }
            return objects
        }
    }
}

extension JSONReader {
    /// An object at the current offset: each key and the byte range of its value.
    mutating func readMembers() throws(JSONParseError) -> JSONObjectScanner.Members {
        guard take(UInt8(ascii: "{")) else { throw error("expected an object") }
        var members: JSONObjectScanner.Members = []
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return members }
        repeat {
            skipWhitespace()
            let key = try readString()
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { throw error("expected ':'") }
            skipWhitespace()
            let start = offset
            try skipValue(depth: 1)
            members.append((key, start..<offset))
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { throw error("expected ',' or '}'") }
        return members
    }
}

/// The byte-level reader behind ``JSONValue/parse(_:)`` and ``JSONObjectScanner``.
struct JSONReader: ~Copyable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var offset = 0
    static let maxDepth = 256

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: offset, reason: reason) }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard offset < bytes.count, bytes[offset] == byte else { return false }
        offset += 1
        return true
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count else { throw error("unexpected end") }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[offset + $0] == expected[$0] }
        }
        guard matches else { throw error("unexpected character") }
        offset += count
    }

    mutating func readValue(depth: Int) throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw error("nested too deeply") }
            offset += 1
            var members: [(key: String, value: JSONValue)] = []
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                skipWhitespace()
                let key = try readString()
                if members.contains(where: { $0.key == key }) { throw error("duplicate key \"\(key)\"") }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { throw error("expected ':'") }
                members.append((key, try readValue(depth: depth + 1)))
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { throw error("expected ',' or '}'") }
            return .object(members)
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw error("nested too deeply") }
            offset += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if take(UInt8(ascii: "]")) { return .array(elements) }
            repeat {
                elements.append(try readValue(depth: depth + 1))
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "]")) else { throw error("expected ',' or ']'") }
            return .array(elements)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            let start = offset
            try skipNumber()
            return .number(
                String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self))
        }
    }

    /// Moves past one value, checking its grammar, without building it.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end") }
        switch bytes[offset] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[offset] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            guard depth < Self.maxDepth else { throw error("nested too deeply") }
            offset += 1
            skipWhitespace()
            if take(close) { return }
            repeat {
                if isObject {
                    skipWhitespace()
                    try skipString()
                    skipWhitespace()
                    guard take(UInt8(ascii: ":")) else { throw error("expected ':'") }
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(close) else { throw error("expected ',' or a closing bracket") }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try skipNumber()
        }
    }

    private mutating func digits() -> Int {
        let start = offset
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
            offset += 1
        }
        return offset - start
    }

    private mutating func skipNumber() throws(JSONParseError) {
        _ = take(UInt8(ascii: "-"))
        guard offset < bytes.count else { throw error("unexpected end") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
        } else if digits() == 0 {
            throw error("unexpected character")
        }
        if take(UInt8(ascii: ".")) {
            guard digits() > 0 else { throw error("expected a digit") }
        }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard digits() > 0 else { throw error("expected a digit") }
        }
    }

    private mutating func skipString() throws(JSONParseError) {
        guard take(UInt8(ascii: "\"")) else { throw error("expected a string") }
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte < 0x20 { throw error("control character in a string") }
            if byte == UInt8(ascii: "\\") {
                guard offset < bytes.count else { break }
                let escaped = bytes[offset]
                offset += 1
                if escaped == UInt8(ascii: "u") {
                    _ = try hex4()
                } else if !Self.simpleEscapes.contains(escaped) {
                    throw error("invalid escape")
                }
            }
        }
        throw error("unterminated string")
    }

    private static let simpleEscapes: [UInt8] = Array(#""\/bfnrt"#.utf8)

    mutating func readString() throws(JSONParseError) -> String {
        guard take(UInt8(ascii: "\"")) else { throw error("expected a string") }
        let start = offset
        // Fast path: no escapes.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<offset])
                offset += 1
                guard let text = String(validating: slice, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string")
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            offset += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string")
                }
                return text
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { throw error("unterminated string") }
                let escaped = bytes[offset]
                offset += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")) else {
                            throw error("unpaired surrogate")
                        }
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid escape") }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default: throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in a string") }
                out.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("unexpected end") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }
}

/// Writing JSON bytes: the pieces every encoder here shares.
public enum JSONOutput {
    public static let null = Array("null".utf8)
    public static let `true` = Array("true".utf8)
    public static let `false` = Array("false".utf8)

    /// A finite number's JSON text: integral values without a fraction, others in Swift's
    /// shortest round-trip form.
    public static func number(_ value: Double) -> String {
        if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    public static func string(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { string(bytes: $0, into: &out) }
    }

    /// UTF-8 `bytes` as a JSON string.
    public static func string(bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            }
            runStart = index + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            }
        }
        if runStart < bytes.count {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
