import Foundation

/// The NestJS NATS transport's message format, so the original NestJS gateway can call
/// these services during a migration.
///
/// A request `{"pattern": P, "data": D, "id": ID}` (P equal to the subject) carries D;
/// its reply is `{"response": R, "isDisposed": true, "id": ID}` or, on error,
/// `{"err": {"status": "error", "message": M}, "isDisposed": true, "id": ID}`. The same
/// object without `id` is an event: handled, never answered. Any other payload is a native
/// request.
public struct NestEnvelope: Sendable, Equatable {
    /// The request id; `nil` for an event.
    public let id: String?
    /// The JSON of `data`.
    public let data: [UInt8]

    public var isEvent: Bool { id == nil }

    /// Recognizes an envelope addressed to `subject`; `nil` for a native request.
    public static func detect(_ payload: [UInt8], subject: String) -> NestEnvelope? {
        // Cheap pre-checks so native payloads (JSON objects too) are not parsed twice: an
        // envelope is an object that mentions "pattern".
        guard
            payload.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
                == UInt8(ascii: "{"),
            payload.count < 16 << 20, contains(payload, patternKey),
            let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any],
            let pattern = object["pattern"] as? String, pattern == subject
        else { return nil }
        let id: String?
        switch object["id"] {
        case let text as String: id = text
        case let number as NSNumber: id = number.stringValue
        default: id = nil
        }
        let dataValue = object["data"] ?? NSNull()
        let data =
            (try? JSONSerialization.data(withJSONObject: dataValue, options: [.fragmentsAllowed])).map {
                [UInt8]($0)
            }
            ?? Array("null".utf8)
        return NestEnvelope(id: id, data: data)
    }

    private static let patternKey = Array("\"pattern\"".utf8)

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return true
            }
            index += 1
        }
        return false
    }

    /// The reply for a successful request; `response` is the handler's JSON.
    public func reply(response: [UInt8]) -> [UInt8] {
        let value =
            (try? JSONSerialization.jsonObject(with: Data(response), options: [.fragmentsAllowed]))
            ?? NSNull()
        return Self.encode(["response": value, "isDisposed": true, "id": id ?? ""])
    }

    /// The reply for a failed request.
    public func errorReply(message: String) -> [UInt8] {
        Self.encode(["err": ["status": "error", "message": message], "isDisposed": true, "id": id ?? ""])
    }

    private static func encode(_ object: [String: Any]) -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])).map {
            [UInt8]($0)
        }
            ?? Array("{}".utf8)
    }
}
