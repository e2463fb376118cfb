import Foundation

/// Writes JSON from plain Swift values (`[String: Any]`, `[Any]`, `String`, `Int`,
/// `Double`, `Bool`, `NSNull`), keys sorted. Foundation's `JSONSerialization` with sorted
/// keys compares keys with locale-aware `NSString` on Linux and bridges every value: it was
/// 86 % of a list request's CPU. This is a plain byte writer.
public enum JSONWriter {
    public static func bytes(_ value: Any) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        try write(value, into: &out)
        return out
    }

    public static func write(_ value: Any, into out: inout [UInt8]) throws {
        // Values that came out of JSONSerialization are NSNumbers, and an NSNumber 1 also
        // casts to `true`: read its own type first. (A metatype check, no bridging.)
        if type(of: value) is NSNumber.Type, let number = value as? NSNumber {
            try writeNumber(number, into: &out)
            return
        }
        switch value {
        // Swift collections first: testing them against a class (NSNull) would bridge them.
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            var first = true
            for key in object.keys.sorted() {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                try write(object[key] ?? NSNull(), into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let text as String: writeString(text, into: &out)
        case let flag as Bool: out.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case let number as Int: out.append(contentsOf: String(number).utf8)
        case let number as Int64: out.append(contentsOf: String(number).utf8)
        case let number as Double:
            guard number.isFinite else { throw JSONWriterError.notRepresentable("non-finite number") }
            if number.rounded() == number && abs(number) < 1e15 {
                out.append(contentsOf: String(Int64(number)).utf8)
            } else {
                out.append(contentsOf: "\(number)".utf8)
            }
        case is NSNull: out.append(contentsOf: "null".utf8)
        default:
            throw JSONWriterError.notRepresentable("\(type(of: value))")
        }
    }

    private static func writeNumber(_ number: NSNumber, into out: inout [UInt8]) throws {
        let type = String(cString: number.objCType)
        if number is NSDecimalNumber, let exact = number.exactDouble {
            try write(exact, into: &out)
        } else if type == "c" {
            try write(number.boolValue, into: &out)
        } else if type == "d" || type == "f" {
            try write(number.doubleValue, into: &out)
        } else {
            try write(number.int64Value, into: &out)
        }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                ])
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

public enum JSONWriterError: Error, CustomStringConvertible {
    case notRepresentable(String)
    public var description: String {
        switch self {
        case .notRepresentable(let what): return "cannot write \(what) as JSON"
        }
    }
}

extension NSNumber {
    /// The number's value as a Double, exactly: Foundation on Linux parses long or large
    /// JSON numbers into an NSDecimalNumber whose `doubleValue` is off in the last digits
    /// (3.4000000000000003e38 comes out below 3.4e38); its decimal text is exact.
    public var exactDouble: Double? {
        self is NSDecimalNumber ? Double(description) : doubleValue
    }
}
