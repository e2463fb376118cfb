#if Server
    #if canImport(FoundationEssentials)
        import FoundationEssentials
    #else
        import Foundation
    #endif

    #if canImport(Glibc)
        import Glibc
    #endif

    /// Text helpers of the CLI, so that it needs FoundationEssentials only (no ICU and no
    /// full Foundation loaded: a tool that publishes one message starts small).
    enum TextOutput {
        /// `value` with exactly `places` decimals, as `%.*f` writes it.
        static func fixed(_ value: Double, places: Int) -> String {
            guard value.isFinite else { return "\(value)" }
            var scale = 1.0
            for _ in 0..<places { scale *= 10 }
            let scaled = (abs(value) * scale).rounded()
            guard scaled < 9e18 else { return "\(value)" }
            let units = UInt64(scaled)
            let whole = units / UInt64(scale)
            var fraction = String(units % UInt64(scale))
            fraction = String(repeating: "0", count: max(0, places - fraction.count)) + fraction
            let sign = value < 0 && units > 0 ? "-" : ""
            return places == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
        }

        /// `text` cut or padded with spaces to `width` characters.
        static func column(_ text: String, _ width: Int) -> String {
            text.count >= width
                ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
        }

        /// Without the spaces and tabs at either end.
        static func trimmed(_ text: Substring) -> String {
            let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
            guard let first = text.firstIndex(where: { !isBlank($0) }),
                let last = text.lastIndex(where: { !isBlank($0) })
            else { return "" }
            return String(text[first...last])
        }

        /// A line on standard error.
        static func error(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }

        /// Standard output, now (lines of a subscription as they arrive).
        static func flush() {
            fflush(nil)  // every stream, stdout among them, without touching the global
        }
    }

    /// Any JSON document, decoded and encoded again (pretty, sorted keys) without
    /// `JSONSerialization`.
    enum AnyJSON: Codable, Equatable {
        case null
        case bool(Bool)
        case integer(Int)
        case number(Double)
        case string(String)
        case array([AnyJSON])
        case object([String: AnyJSON])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else if let integer = try? container.decode(Int.self) {
                self = .integer(integer)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let array = try? container.decode([AnyJSON].self) {
                self = .array(array)
            } else {
                self = .object(try container.decode([String: AnyJSON].self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let flag): try container.encode(flag)
            case .integer(let integer): try container.encode(integer)
            case .number(let number): try container.encode(number)
            case .string(let text): try container.encode(text)
            case .array(let array): try container.encode(array)
            case .object(let object): try container.encode(object)
            }
        }

        static func decode(_ bytes: [UInt8]) -> AnyJSON? {
            try? JSONDecoder().decode(AnyJSON.self, from: Data(bytes))
        }

        subscript(key: String) -> String? {
            guard case .object(let members) = self, case .string(let text)? = members[key] else { return nil }
            return text
        }

        var pretty: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }
    }
#endif
