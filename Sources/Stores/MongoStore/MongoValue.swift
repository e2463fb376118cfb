#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A BSON value as the services use them. Documents go to and from libmongoc as
/// relaxed extended JSON, every string escaped (`JSONText`):
/// a value can never turn into an operator.
public indirect enum MongoValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case date(Date)
    case objectID(String)
    case array([MongoValue])
    case document(MongoDocument)
    case null

    public var string: String? { if case .string(let v) = self { return v } else { return nil } }
    public var int: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let v) where v.rounded() == v: return Int64(v)
        default: return nil
        }
    }
    public var bool: Bool? { if case .bool(let v) = self { return v } else { return nil } }
    public var date: Date? { if case .date(let v) = self { return v } else { return nil } }
    public var objectID: String? { if case .objectID(let v) = self { return v } else { return nil } }
    public var array: [MongoValue]? { if case .array(let v) = self { return v } else { return nil } }
    public var document: MongoDocument? { if case .document(let v) = self { return v } else { return nil } }

    /// The value as canonical-enough extended JSON text for `bson_new_from_json`.
    func writeJSON(into out: inout String) {
        switch self {
        case .string(let v): JSONText.writeString(v, into: &out)
        case .int(let v): out += "{\"$numberLong\":\"\(v)\"}"
        case .double(let v):
            if v.isFinite { out += "{\"$numberDouble\":\"\(v)\"}" } else { out += "null" }
        case .bool(let v): out += v ? "true" : "false"
        case .date(let v):
            out += "{\"$date\":{\"$numberLong\":\"\(Int64((v.timeIntervalSince1970 * 1000).rounded()))\"}}"
        case .objectID(let v):
            out += "{\"$oid\":"
            JSONText.writeString(v, into: &out)
            out += "}"
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.writeJSON(into: &out)
            }
            out += "]"
        case .document(let document): document.writeJSON(into: &out)
        case .null: out += "null"
        }
    }

    /// Reads a value from relaxed or canonical extended JSON.
    init(_ json: ExtendedJSON) {
        switch json {
        case .string(let v): self = .string(v)
        case .int(let v): self = .int(v)
        case .double(let v): self = .double(v)
        case .bool(let v): self = .bool(v)
        case .null: self = .null
        case .array(let values): self = .array(values.map(MongoValue.init))
        case .object(let object):
            if object.count == 1, case .string(let oid)? = object["$oid"] {
                self = .objectID(oid)
            } else if object.count == 1, let date = object["$date"] {
                self = .date(Self.date(from: date) ?? Date(timeIntervalSince1970: 0))
            } else if object.count == 1,
                case .string(let text)? = object["$numberLong"] ?? object["$numberInt"],
                let n = Int64(text)
            {
                self = .int(n)
            } else if object.count == 1, case .string(let text)? = object["$numberDouble"],
                let d = Double(text)
            {
                self = .double(d)
            } else {
                self = .document(
                    MongoDocument(object.keys.sorted().map { ($0, MongoValue(object[$0] ?? .null)) }))
            }
        }
    }

    private static func date(from value: ExtendedJSON) -> Date? {
        switch value {
        case .string(let text):
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
                return date
            }
            return try? Date.ISO8601FormatStyle().parse(text)
        case .object(let object):
            if case .string(let text)? = object["$numberLong"], let ms = Double(text) {
                return Date(timeIntervalSince1970: ms / 1000)
            }
            return nil
        case .int(let ms): return Date(timeIntervalSince1970: Double(ms) / 1000)
        default: return nil
        }
    }
}

/// JSON as libbson writes it (relaxed extended JSON), decoded without Foundation's
/// `JSONSerialization` so booleans and numbers keep their types on every platform.
enum ExtendedJSON: Decodable, Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case array([ExtendedJSON])
    case object([String: ExtendedJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let v = try? container.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? container.decode(Int64.self) {
            self = .int(v)
        } else if let v = try? container.decode(Double.self) {
            self = .double(v)
        } else if let v = try? container.decode(String.self) {
            self = .string(v)
        } else if let v = try? container.decode([ExtendedJSON].self) {
            self = .array(v)
        } else {
            self = .object(try container.decode([String: ExtendedJSON].self))
        }
    }
}

enum JSONText {
    /// Writes `text` as a JSON string literal.
    static func writeString(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let digits = Array("0123456789abcdef".unicodeScalars)
                    out += "\\u00"
                    out.unicodeScalars.append(digits[Int(scalar.value >> 4)])
                    out.unicodeScalars.append(digits[Int(scalar.value & 0xF)])
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// An ordered BSON document.
public struct MongoDocument: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(key: String, value: MongoValue)]

    public init(dictionaryLiteral elements: (String, MongoValue)...) {
        fields = elements.map { (key: $0.0, value: $0.1) }
    }

    public init(_ fields: [(String, MongoValue)] = []) {
        self.fields = fields.map { (key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> MongoValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append((key: key, value: newValue))
            }
        }
    }

    public static func == (a: MongoDocument, b: MongoDocument) -> Bool {
        a.fields.count == b.fields.count
            && zip(a.fields, b.fields).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Extended JSON text that keeps this document's field order (sorts and index keys
    /// depend on it).
    func writeJSON(into out: inout String) {
        out += "{"
        for (index, field) in fields.enumerated() {
            if index > 0 { out += "," }
            JSONText.writeString(field.key, into: &out)
            out += ":"
            field.value.writeJSON(into: &out)
        }
        out += "}"
    }

    public var json: String {
        var out = ""
        writeJSON(into: &out)
        return out
    }
}
